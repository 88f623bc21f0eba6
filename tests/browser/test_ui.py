"""The page as a person uses it: demo, settings, key handling, sanitized Markdown, stop, themes, phone width."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-results"


def test_recorded_demo_runs_from_its_button_and_renders_chart_and_answer(ready_page) -> None:
    page = ready_page
    page.get_by_role("button", name="Recorded · calendar arithmetic").click()
    page.wait_for_selector(".run[data-status='finished']", timeout=60_000)
    assert page.locator(".badge").first.inner_text() == "recorded"
    assert page.locator(".step").count() == 2
    assert page.locator(".display-chart canvas").count() >= 1
    assert "15 years between 2000 and 2100" in page.locator(".final").inner_text()
    assert page.locator("details.code .hljs-keyword").count() > 0  # highlighted
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "demo-finished.png"), full_page=True)


def test_settings_persist_without_the_key_and_the_key_stays_in_session_storage(ready_page) -> None:
    page = ready_page
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("groq")
    page.locator("input[name=model]").fill("llama-3.3-70b")
    page.locator("input[name=apiKey]").fill("sk-secret-123")
    page.get_by_role("button", name="Save").click()
    stored = page.evaluate("localStorage.getItem('codeact.settings')")
    assert "llama-3.3-70b" in stored and "sk-secret-123" not in stored
    assert page.evaluate("sessionStorage.getItem('codeact.apiKey')") == "sk-secret-123"
    assert page.evaluate("localStorage.getItem('codeact.apiKey')") is None
    page.reload()
    page.get_by_role("button", name="Settings").click()
    assert page.locator("input[name=model]").input_value() == "llama-3.3-70b"
    assert page.locator("input[name=baseUrl]").input_value() == "https://api.groq.com/openai/v1"
    # Remember moves the key to localStorage.
    page.locator("input[name=remember]").check()
    page.get_by_role("button", name="Save").click()
    assert page.evaluate("localStorage.getItem('codeact.apiKey')") == "sk-secret-123"
    assert page.evaluate("sessionStorage.getItem('codeact.apiKey')") is None


def test_test_connection_shows_the_typed_error_and_the_fix(ready_page) -> None:
    page = ready_page
    page.get_by_role("button", name="Settings").click()
    page.locator("select[name=preset]").select_option("ollama")
    page.locator("input[name=baseUrl]").fill("http://127.0.0.1:9")
    page.get_by_role("button", name="Test connection").click()
    status = page.locator("[data-connection-status]")
    page.wait_for_function("document.querySelector('[data-connection-status]').dataset.state === 'error'",
                           timeout=30_000)
    assert "OLLAMA_ORIGINS" in status.inner_text()


def test_markdown_from_the_model_is_sanitized(ready_page) -> None:
    result = ready_page.evaluate("""async () => {
      const { renderMarkdown } = await import('./static/app/ui/markdown.mjs');
      const box = document.createElement('div');
      for (const text of [
        '<script>window.pwned=1</script>',
        '<img src="http://198.51.100.7/x.png" onerror="window.pwned=2">',
        '[link](javascript:alert(1)) and <a href="javascript:alert(2)">raw</a>',
        '<iframe src="http://198.51.100.7/"></iframe>',
        '![pic](http://198.51.100.7/y.png) **bold** [ok](https://example.org)',
      ]) box.append(renderMarkdown(text));
      document.body.append(box);
      await new Promise((r) => setTimeout(r, 300));
      return {
        pwned: window.pwned ?? null,
        scripts: box.querySelectorAll('script, iframe').length,
        handlers: [...box.querySelectorAll('*')]
          .filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
        jsLinks: [...box.querySelectorAll('a')]
          .filter((a) => /^javascript:/i.test(a.getAttribute('href') ?? '')).length,
        remoteImages: [...box.querySelectorAll('img')].filter((i) => i.getAttribute('src')).length,
        html: box.innerHTML,
      };
    }""")
    assert result["pwned"] is None
    assert (result["scripts"], result["handlers"], result["jsLinks"], result["remoteImages"]) == (0, 0, 0, 0)
    assert "<strong>bold</strong>" in result["html"] and 'rel="noopener noreferrer"' in result["html"]
    assert "image not loaded" in result["html"]


def test_the_task_box_works_before_python_is_ready(page, app_url) -> None:
    # Hold back Pyodide's wasm: Python cannot be ready, the page must still take a task.
    page.route("**/pyodide.asm.wasm", lambda route: None)
    page.goto(app_url)
    page.locator("#task").fill("typed during boot")
    assert page.locator("#task").input_value() == "typed during boot"
    assert page.evaluate("document.body.dataset.pythonReady") is None
    page.get_by_role("button", name="Settings").click()
    assert page.locator("dialog#settings").is_visible()


def test_theme_toggle_and_phone_width(ready_page) -> None:
    page = ready_page
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_role("button", name="Switch between light and dark theme").click()
    after = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert before != after
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth <= 380")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone.png"))
