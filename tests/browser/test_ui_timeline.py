"""The timeline from events: step cards, streaming text, errors in words, charts and tables, cost, sanitized answers,
Stop and the keyboard, themes, phone width, and screenshots of the main views."""

from __future__ import annotations

import pytest

from tests.browser.ui_support import (  # noqa: F401 - ui_page is a fixture
    SHOTS,
    posted,
    render,
    scripted_run,
    spy_on_worker,
    ui_page,
)

pytestmark = pytest.mark.browser


def test_step_cards_render_code_output_errors_displays_usage_and_the_answer(ui_page) -> None:
    page = ui_page
    events = scripted_run()
    render(page, *events[:4])  # up to the second delta: the model's text streams into step 1
    assert "print(sum(i*i" in page.locator(".step[data-step='1'] .model-stream").inner_text()
    render(page, *events[4:])
    step1 = page.locator(".step[data-step='1']")
    step2 = page.locator(".step[data-step='2']")
    assert page.locator(".step").count() == 2
    assert step1.locator(".model-stream").count() == 0  # replaced by the code card
    assert step1.locator("details.code .hljs-keyword").count() > 0  # syntax-highlighted
    assert step1.locator(".thought strong").inner_text() == "compute"
    assert step1.locator(".output").inner_text().strip() == "385"
    head = step1.locator(".step-head").inner_text()
    assert "model 1.2 s" in head and "run 42 ms" in head and "1,200 tokens" in head
    # An error is said in words first, then exactly.
    error = step2.locator(".error")
    assert error.get_attribute("role") == "alert"
    assert "used a name that is not defined" in error.inner_text()
    assert "NameError: name 'undefined_name' isn't defined" in error.inner_text()
    assert step2.locator(".display-chart canvas").count() >= 1
    assert step2.locator(".display-chart").get_attribute("aria-label").startswith("bar chart: Squares")
    cells = step2.locator(".display-table td").all_inner_texts()
    assert cells == ["1", "1", "2", "4", "3", "<b>9</b>"]  # values as text, never HTML
    final = page.locator(".final")
    assert final.locator("strong").inner_text() == "385"
    assert final.locator("table td").count() == 2  # GFM table in the answer
    assert page.locator(".run").get_attribute("data-status") == "finished"
    assert page.locator(".run-status").inner_text() == "Finished · 2 steps · 3,000 tokens"


def test_cost_per_step_and_per_run_from_the_prices_in_settings(ui_page) -> None:
    page = ui_page
    page.get_by_role("button", name="Settings").click()
    page.locator("input[name=model]").fill("m")
    page.locator("input[name=promptPerM]").fill("1")
    page.locator("input[name=completionPerM]").fill("10")
    page.get_by_role("button", name="Save").click()
    render(page, *scripted_run())
    # step 1: 1000 x $1/M + 200 x $10/M = $0.003; run: 2500 x 1 + 500 x 10 = $0.0075
    assert page.locator(".step[data-step='1'] .step-head").inner_text().endswith("1,200 tokens · $0.0030")
    assert page.locator(".run-status").inner_text().endswith("3,000 tokens · $0.0075")


def test_markdown_in_answers_is_sanitized_and_nothing_leaves_loopback(ui_page) -> None:
    page = ui_page
    hostile = "\n\n".join([  # one paragraph each, so Markdown parses every item (an HTML block would swallow it)
        "<script>window.pwned=1</script>",
        "<img src=x onerror=\"window.pwned=2\">",
        "![remote](http://198.51.100.7/track.png)",
        "<img src='https://198.51.100.7/a.gif' srcset='https://198.51.100.7/b.gif 2x'>",
        "[click](javascript:window.pwned=3) and <a href=\"JaVaScRiPt:window.pwned=4\">raw</a>",
        "<iframe src='http://198.51.100.7/'></iframe>",
        "<svg><script>window.pwned=5</script><image href='http://198.51.100.7/c.png'/></svg>",
        "![inline](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==)",
        "[fine](https://example.org/docs)",
    ])
    events = scripted_run(finish=False) + [
        {"type": "FinalAnswer", "run_id": "run-1", "step": 2, "ts": 3.0, "value": hostile},
        {"type": "RunFinished", "run_id": "run-1", "step": 2, "ts": 3.1, "status": "finished",
         "stop_reason": "final_answer", "steps": 2, "usage": {}},
    ]
    render(page, *events)
    page.wait_for_timeout(300)  # give any handler or image load its chance
    final = page.locator(".final")
    result = final.evaluate("""(box) => ({
      scripts: box.querySelectorAll('script, iframe, svg script').length,
      handlers: [...box.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
      jsLinks: [...box.querySelectorAll('a')].filter((a) => /^\\s*javascript:/i.test(a.getAttribute('href') ?? '')).length,
      remote: [...box.querySelectorAll('img')].filter((i) => /^(https?:|\\/\\/)/i.test(i.getAttribute('src') ?? '')).length,
      dataImages: [...box.querySelectorAll('img')].filter((i) => (i.getAttribute('src') ?? '').startsWith('data:image/png')).length,
      safeLink: box.querySelector('a[href="https://example.org/docs"]')?.rel,
    })""")
    assert page.evaluate("window.pwned ?? null") is None
    assert (result["scripts"], result["handlers"], result["jsLinks"], result["remote"]) == (0, 0, 0, 0)
    assert result["dataImages"] == 1  # inline images stay
    assert result["safeLink"] == "noopener noreferrer"
    assert "image not loaded" in final.inner_html()
    # The offline guard (conftest) fails this test if any of those URLs was requested.


def test_stop_button_and_escape_send_stop_run_and_ctrl_enter_runs(ui_page) -> None:
    page = ui_page
    spy_on_worker(page)
    page.get_by_role("button", name="Settings").click()
    page.locator("input[name=model]").fill("some-model")
    page.get_by_role("button", name="Save").click()
    page.locator("#task").fill("What is 2**100?")
    page.locator("#task").press("Control+Enter")
    starts = posted(page, "start-run")
    assert len(starts) == 1 and starts[0]["task"] == "What is 2**100?"
    assert starts[0]["settings"]["model"] == "some-model"
    run_id = starts[0]["runId"]
    # Python is held back: the run is queued, and the page says so.
    assert page.locator(".run-status").inner_text().startswith("Queued")
    stop = page.get_by_role("button", name="Stop the run (Esc)")
    assert stop.is_visible() and page.locator("#run").is_disabled()
    stop.click()
    assert posted(page, "stop-run") == [{"type": "stop-run", "runId": run_id}]
    page.keyboard.press("Escape")
    assert len(posted(page, "stop-run")) == 2
    render(page, {"type": "RunStarted", "run_id": run_id, "task": "What is 2**100?", "settings": {}},
           {"type": "RunFinished", "run_id": run_id, "status": "cancelled", "stop_reason": "cancelled", "steps": 0})
    assert page.locator(".run-status").inner_text().startswith("Stopped by you (you stopped it)")
    assert not stop.is_visible() and page.locator("#run").is_enabled()
    page.keyboard.press("Escape")
    assert len(posted(page, "stop-run")) == 2  # nothing running: Esc does nothing


def test_theme_toggle_follows_the_system_then_remembers_the_choice(page, app_url) -> None:
    page.emulate_media(color_scheme="dark")
    page.route("**/pyodide.asm.wasm", lambda route: None)
    page.goto(app_url)
    page.wait_for_function("document.body.dataset.uiReady === 'true'")
    dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark_bg == "rgb(20, 20, 22)"
    assert page.evaluate("document.getElementById('hljs-dark').media") == "all"
    page.get_by_role("button", name="Switch between light and dark theme").click()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(251, 251, 250)"
    assert page.evaluate("document.getElementById('hljs-dark').media") == "not all"
    page.reload()
    page.wait_for_function("document.body.dataset.uiReady === 'true'")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(251, 251, 250)"


def _assert_inside(page, selector: str, width: int) -> None:  # noqa: ANN001
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not visible"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"{selector} overflows: {box}"


def test_main_views_screenshots_and_phone_width_layout(ui_page) -> None:
    page = ui_page
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(SHOTS / "ui-welcome.png"))
    demos = page.locator("#demos button")
    assert demos.count() == 3 and all(t.startswith("Recorded") for t in demos.all_inner_texts())
    boxes = [demos.nth(i).bounding_box() for i in range(3)]
    assert all(b["height"] > 30 for b in boxes)
    render(page, *scripted_run())
    page.wait_for_timeout(200)
    page.screenshot(path=str(SHOTS / "ui-run.png"), full_page=True)
    composer = page.locator("#composer").bounding_box()
    assert composer["y"] + composer["height"] <= 800 + 1  # the task box stays on screen (sticky)
    page.get_by_role("button", name="Settings").click()
    page.screenshot(path=str(SHOTS / "ui-settings.png"))
    dialog = page.locator("dialog#settings").bounding_box()
    assert 300 < dialog["width"] <= 800
    page.keyboard.press("Escape")
    page.get_by_role("button", name="History").click()
    page.locator(".history-item").first.wait_for()
    page.screenshot(path=str(SHOTS / "ui-history.png"))
    page.keyboard.press("Escape")

    page.set_viewport_size({"width": 375, "height": 740})
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 376  # no sideways scrolling
    for selector in ("#task", "#run", ".topbar", ".run", ".step", ".final", "#open-settings", "#theme"):
        _assert_inside(page, selector, 375)
    page.screenshot(path=str(SHOTS / "ui-phone.png"), full_page=True)
    page.get_by_role("button", name="Settings").click()
    _assert_inside(page, "dialog#settings", 375)
    page.screenshot(path=str(SHOTS / "ui-phone-settings.png"))
