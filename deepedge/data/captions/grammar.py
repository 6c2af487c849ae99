"""The captions' words and grammar: the kinds of object, colours, sizes, spatial relations,
the combinations no training image shows, and the reference captions of a scene."""

import dataclasses

COLOURS = {"red": (215, 40, 40), "green": (40, 165, 60), "blue": (45, 85, 225), "yellow": (235, 205, 35),
           "white": (245, 245, 245)}
SIZES = {"small": (14, 18), "large": (24, 30)}
TEXTURE_WORDS = {"brick": ("the brick wall", "a brick wall", "bricks"), "grass": ("the grass", "grass", "a lawn"),
                 "gravel": ("gravel", "the gravel", "stones")}


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of object: its words (singular and plural synonyms) and where its images come from."""

    name: str
    nouns: tuple
    plurals: tuple
    source: str  # "fashion" (with the Fashion-MNIST labels), "digit" or "emoji" (with the glyphs)
    items: tuple = ()

    @property
    def coloured(self):
        return self.source != "emoji"


KINDS = {k.name: k for k in (
    Kind("shirt", ("shirt", "top"), ("shirts", "tops"), "fashion", (0, 2, 4, 6)),
    Kind("dress", ("dress",), ("dresses",), "fashion", (3,)),
    Kind("shoe", ("shoe",), ("shoes",), "fashion", (5, 7, 9)),
    Kind("bag", ("bag", "handbag"), ("bags", "handbags"), "fashion", (8,)),
    Kind("digit", ("digit", "number"), ("digits", "numbers"), "digit"),
    # the last glyph of each kind is never trained on
    Kind("dog", ("dog",), ("dogs",), "emoji", ("\U0001F415", "\U0001F436", "\U0001F429", "\U0001F415\u200d\U0001F9BA",
                                            "\U0001F9AE")),
    Kind("cat", ("cat",), ("cats",), "emoji",
         ("\U0001F408", "\U0001F431", "\U0001F63A", "\U0001F638", "\U0001F63B", "\U0001F63C", "\U0001F63D", "\U0001F63F",
          "\U0001F63E", "\U0001F408\u200d\u2B1B", "\U0001F640")),
    Kind("bird", ("bird",), ("birds",), "emoji",
         ("\U0001F426", "\U0001F424", "\U0001F425", "\U0001F423", "\U0001F99C", "\U0001F985", "\U0001F986",
          "\U0001F989", "\U0001F427", "\U0001F9A2", "\U0001F9A9", "\U0001F99A", "\U0001F413", "\U0001F414", "\U0001F983",
          "\U0001FABF", "\U0001F54A")),
    Kind("fish", ("fish",), ("fish",), "emoji", ("\U0001F41F", "\U0001F420", "\U0001F421", "\U0001F988")),
    Kind("fruit", ("fruit",), ("fruits",), "emoji",
         ("\U0001F34E", "\U0001F34F", "\U0001F350", "\U0001F34A", "\U0001F34B", "\U0001F34C", "\U0001F349",
          "\U0001F347", "\U0001F353", "\U0001F351", "\U0001F96D", "\U0001F34D", "\U0001F95D", "\U0001FAD0", "\U0001F348",
          "\U0001F352")),
    Kind("car", ("car",), ("cars",), "emoji",
         ("\U0001F697", "\U0001F695", "\U0001F699", "\U0001F693", "\U0001F3CE", "\U0001F698", "\U0001F694", "\U0001F6FB",
          "\U0001F696")),
    Kind("tree", ("tree",), ("trees",), "emoji", ("\U0001F332", "\U0001F333", "\U0001F334", "\U0001F384")),
    Kind("flower", ("flower",), ("flowers",), "emoji",
         ("\U0001F33B", "\U0001F337", "\U0001F338", "\U0001F33C", "\U0001F339", "\U0001F490", "\U0001F3F5", "\U0001FAB7",
          "\U0001F940", "\U0001F33A")),
    Kind("ball", ("ball",), ("balls",), "emoji",
         ("\u26BD", "\U0001F3C0", "\U0001F3D0", "\U0001F3C8", "\u26BE", "\U0001F3BE", "\U0001F3B1", "\U0001F3C9", "\U0001F94E")),
    Kind("house", ("house",), ("houses",), "emoji",
         ("\U0001F3E0", "\U0001F3E1", "\U0001F3DA", "\U0001F3D8", "\U0001F6D6")),
)}
# Which kind each object word names (for object recall and precision).
OBJECT_WORDS = {word: kind.name for kind in KINDS.values() for word in kind.nouns + kind.plurals}

RELATIONS = {  # relation: (its phrasings, the relation read the other way round)
    "left": (("to the left of", "left of"), "right"),
    "right": (("to the right of", "right of"), "left"),
    "above": (("above", "over"), "below"),
    "below": (("below", "under", "beneath"), "above"),
}
HELD_OUT = {
    "colour": (("red", "dress"), ("blue", "shoe"), ("green", "bag"), ("yellow", "shirt"), ("white", "digit")),
    "size": (("large", "cat"), ("small", "car"), ("large", "fish"), ("small", "house")),
    # (kind, relation, kind), in either phrasing: a dog left of a cat is a cat right of a dog
    "relation": (("dog", "left", "cat"), ("car", "above", "tree"), ("fruit", "below", "bird"),
                 ("ball", "right", "flower"), ("shoe", "left", "bag")),
}


def _combinations(objects, relations):
    """The held-out combinations an image shows."""
    found = []
    for o in objects:
        if (o["colour"], o["kind"]) in HELD_OUT["colour"]:
            found.append(("colour", o["colour"], o["kind"]))
        if (o["size"], o["kind"]) in HELD_OUT["size"]:
            found.append(("size", o["size"], o["kind"]))
    for a, relation, b in relations:
        first, second = objects[a]["kind"], objects[b]["kind"]
        if (first, relation, second) in HELD_OUT["relation"] or \
                (second, RELATIONS[relation][1], first) in HELD_OUT["relation"]:
            found.append(("relation", first, relation, second))
    return found


def _phrase(rng, o, count=1, definite=False):
    """A noun phrase for `count` objects like `o`, with a varying choice of the words said."""
    kind = KINDS[o["kind"]]
    words = []
    if count == 2:
        words.append("two")
    else:
        words.append("the" if definite else "a")
    if rng.random() < 0.6:
        words.append(o["size"])
    if o["colour"] and rng.random() < 0.85:
        words.append(o["colour"])
    nouns = kind.plurals if count == 2 else kind.nouns
    words.append(nouns[rng.integers(len(nouns))])
    if words[0] == "a" and words[1][0] in "aeiou":
        words[0] = "an"
    return " ".join(words)


def _captions(rng, objects, relation, texture, count=5):
    """`count` different reference captions of the scene."""
    captions = []
    for _ in range(count * 10):
        ground = TEXTURE_WORDS[texture][rng.integers(len(TEXTURE_WORDS[texture]))]
        on = ("on", "in") if texture == "grass" else ("on",)
        where = f"{on[rng.integers(len(on))]} {ground}"
        if relation is None:
            alike = len(objects) == 2
            noun = _phrase(rng, objects[0], 2 if alike else 1)
            verb = "are" if alike else "is"
            forms = (f"{noun} {where}", f"{noun} {verb} {where}", f"there {verb} {noun} {where}", noun)
        else:
            a, b = (0, 1) if rng.random() < 0.5 else (1, 0)
            said = relation if a == 0 else RELATIONS[relation][1]
            phrasings = RELATIONS[said][0]
            between = phrasings[rng.integers(len(phrasings))]
            first, second = _phrase(rng, objects[a]), _phrase(rng, objects[b], definite=rng.random() < 0.3)
            forms = (f"{first} {between} {second}", f"{first} is {between} {second}",
                     f"{first} {between} {second} {where}", f"there is {first} {between} {second}")
        caption = forms[rng.integers(len(forms))]
        if caption not in captions:
            captions.append(caption)
        if len(captions) == count:
            break
    return tuple(captions)
