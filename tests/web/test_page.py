"""The demo page end to end: each panel answers real held-out inputs dropped into its own upload
fields or typed into it, uploads over the limits or of the wrong type are refused in the page,
and the page fits a phone (390 x 844) without sideways scrolling."""

import pytest

from conftest import open_page

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from deepedge.web.showcase import showcase_files

    return showcase_files(tmp_path_factory.mktemp("showcase"))


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_every_panel_answers_its_inputs(site, chromium, files, tmp_path, width, height):
    from deepedge.web.showcase import fill_panels

    page = open_page(chromium, site[1], width, height)
    shown = fill_panels(page, files)
    assert "Sneaker\n0.99" in shown["Image recognition"] or "Sneaker\n1.00" in shown["Image recognition"]
    assert "Heard: yes" in shown["Keyword spotting"]
    assert "what you as" in shown["Speech recognition"]
    from deepedge.runtime import load  # the page writes the Python runtime's greedy continuation

    expected = load("austen_lstm_word").generate("It is a truth universally acknowledged", 8, strategy="greedy")
    assert expected.startswith("It is a truth universally acknowledged") and expected in shown["Language modelling"]
    assert "brick" in shown["Scene labelling"] and "ms in the browser" in shown["Scene labelling"]
    # beam search (3), the panel's default: what the Python runtime writes
    assert load("de_en_attention").translate("Ich habe keine Zeit.", 3) in shown["Translation and captioning"]
    assert "return " in shown["Visual-attention agents"]
    assert page.errors == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"page_{width}.png"), full_page=True)
    assert (tmp_path / f"page_{width}.png").stat().st_size > 10_000
    page.close()


def test_uploads_of_the_wrong_type_or_size_are_refused_in_the_page(site, chromium, tmp_path):
    page = open_page(chromium, site[1])
    section = page.locator("section.panel", has=page.locator("h2", has_text="Image recognition"))
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    section.locator("input[type=file]").set_input_files(str(text))
    assert "is not accepted here" in section.locator(".timing").inner_text()
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG" + bytes(11 * 1024 * 1024))
    section.locator("input[type=file]").set_input_files(str(big))
    assert "the limit is" in section.locator(".timing").inner_text()
    assert section.locator(".bars li").count() == 0
    page.close()


def test_the_page_runs_under_its_content_security_policy(site, chromium):
    page = open_page(chromium, site[1])
    violations = page.evaluate("""async () => {
        const seen = [];
        document.addEventListener('securitypolicyviolation', e => seen.push(e.violatedDirective));
        const s = document.createElement('script');
        s.textContent = 'window.injected = 1';
        document.body.append(s);
        await new Promise(r => setTimeout(r, 100));
        return [seen, window.injected === undefined, crossOriginIsolated];
    }""")
    assert violations[0] and violations[1] is True and violations[2] is True
    page.close()


def test_live_microphone_streams_into_the_spotter_and_the_recogniser(site, chromium):
    """Chromium's fake microphone (a beep) stands in for a voice: the live loops must keep scoring
    one-second windows every 250 ms and stepping the recogniser chunk by chunk."""
    from conftest import launch_chromium

    browser = launch_chromium(chromium.browser_type, ["--use-fake-device-for-media-stream",
                                                      "--use-fake-ui-for-media-stream"])
    page = open_page(browser, site[1])
    for title, attribute, minimum in (("Keyword spotting", "data-windows", 4),
                                      ("Speech recognition", "data-chunks", 10)):
        section = page.locator("section.panel", has=page.locator("h2", has_text=title))
        section.get_by_role("button", name="Listen").click()
        page.wait_for_timeout(2500)
        section.get_by_role("button", name="Stop").click()
        count = int(section.locator(f"p.output[{attribute}]").get_attribute(attribute))
        assert count >= minimum, (title, count)
    assert page.errors == []
    browser.close()


def test_a_dropped_picture_is_captioned_as_python_captions_it(site, chromium, files):
    import numpy as np
    from PIL import Image

    from deepedge.edge import load

    from conftest import SHIPPED_MODELS

    page = open_page(chromium, site[1])
    section = page.locator("section.panel", has=page.locator("h2", has_text="Translation and captioning"))
    section.locator("select").first.select_option("scenes_captioner")
    section.locator("input[type=file]").set_input_files(files["picture"])
    section.locator(".timing", has_text="scenes_captioner").wait_for(timeout=60_000)
    image = np.asarray(Image.open(files["picture"]).convert("RGB"))
    # beam search (3), the panel's default
    assert section.locator(".output").inner_text() == load(SHIPPED_MODELS / "scenes_captioner").caption(image, 3)
    page.close()
