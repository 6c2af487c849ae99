"""Joining tokens back into text the way English and German are written.

`detokenize(words)` is what `WordTokenizer.decode` (and `SubwordTokenizer.decode`, after joining
pieces) does after looking the ids up; the page's `tokenizer.js` follows it rule for rule. A
decoded sentence should read, and score (sacrebleu tokenises a hypothesis again), like the text
it was split from: `"` and `'` quotes paired, `“ ‘ « „` glued to what follows and `” »` to what
precedes (and `“` after `„`, as German closes), `’` inside a word (`father’s`), hyphens and
slashes inside words, `3,5` and `1.5`, `70s` and `7th`, `a.m.` and `A.D.`.
"""

import re

_NO_SPACE_BEFORE = set(".,;:!?)]%”»") | {"--", "'s", "n't"}
_NO_SPACE_AFTER = set("([‘«‚¿¡$") | {"--"}  # („ and “: see below)
_GLUED = set("-/—")  # no space on either side: "seventy-five", "and/or", "words—words"
_SENTENCE_END = set(".!?")
_CONTRACTIONS = {"s", "t", "ll", "re", "ve", "d", "m"}  # after an apostrophe: "father’s", "don’t"
_ORDINALS = {"s", "th", "st", "nd", "rd"}  # after a number: "the 1990s", "the 7th"
# Character classes as deepedge.tokenizers' word pattern (and the page's tokenizer.js) see them
_LETTER = re.compile(r"[^\W\d_]")  # the characters of word tokens
_ALNUM = re.compile(r"[^\W_]")
_NUMBER = re.compile(r"\d+")


def detokenize(words, capitalise_sentences=False):
    """Text from token strings. `capitalise_sentences`: a lowercasing tokenizer's words get a
    capital at the start of each sentence (and `i` becomes `I`)."""
    words = list(words)
    out, double_open, single_open, low_open, capitalise, glue = [], False, False, False, True, True
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if word == '"':
            out.append('"' if double_open else ('' if glue else ' ') + '"')
            glue, double_open = not double_open, not double_open
            continue
        if word == "'":  # an opening or closing quote, or a plural's apostrophe ("parents' house")
            opening = (not single_open and bool(_ALNUM.match(after))
                       and not (before.endswith("s") and bool(_LETTER.match(after))))
            out.append(("" if glue else " ") + "'" if opening else "'")
            glue, single_open = opening, opening
            continue
        if word in ("„", "“"):  # German quotes open with „ and close with “
            if word == "„" or not low_open:
                out.append(("" if glue else " ") + word)
                glue, low_open = True, word == "„"
            else:
                out.append(word)
                glue, low_open = False, False
            continue
        if word == "’":  # an apostrophe inside a word, else a closing quote
            out.append("’")
            glue = bool(_LETTER.match(before[-1:])) and after in _CONTRACTIONS
            continue
        text = word
        number_inside = word in (",", ".") and bool(_NUMBER.fullmatch(before) and _NUMBER.fullmatch(after))
        ordinal = word in _ORDINALS and bool(_NUMBER.fullmatch(before))
        initials = (len(word) == 1 and bool(_LETTER.match(word)) and before == "." and i >= 2
                    and len(words[i - 2]) == 1 and bool(_LETTER.match(words[i - 2])))  # a.m., A.D.
        attached = glue or word in _NO_SPACE_BEFORE or word in _GLUED or number_inside or ordinal or initials
        if (capitalise_sentences and (capitalise or word == "i") and word[:1].isalpha()
                and not (ordinal or initials)):
            text = word[:1].upper() + word[1:]
        if _ALNUM.match(word):
            capitalise = False
        out.append(("" if attached else " ") + text)
        glue = word in _NO_SPACE_AFTER or word in _GLUED or number_inside
        if word in _SENTENCE_END and not number_inside:
            capitalise = True
    return "".join(out).strip()


__all__ = ["detokenize"]
