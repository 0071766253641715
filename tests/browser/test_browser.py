"""The issue's story in a real headless Chromium: sign in, upload a DOCX syllabus, review its suggestions
with the keyboard, and see the program's gap report change.  Screenshots of every page go to
build/screenshots/ (git-ignored)."""
from __future__ import annotations

import time

from .conftest import PASSWORD, ROOT, SHOTS, USER, sign_in
from .syllabus_docx import make_docx

COURSE = "CCM-403"
TARGET = "PC10"  # planted as never taught (data/planted_gaps.json): virtual care / telehealth
FIXTURES = ROOT / "tests" / "fixtures" / "syllabi"


def _by():
    from selenium.webdriver.common.by import By
    return By


def arrive(driver, cond, timeout=30, what="page"):
    """Wait for a navigation: ``cond`` on the URL, and the new document loaded (the URL changes when navigation
    commits, before the page is parsed: a find_element right after a URL wait raced it once in CI)."""
    return wait(driver, lambda d: cond(d) and d.execute_script("return document.readyState") == "complete",
                timeout, what)


def wait(driver, cond, timeout=30, what="condition"):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: cond(d),
                                                                         message=f"waiting for {what}")
    except TimeoutException:
        driver.save_screenshot(str(SHOTS / f"FAILED-{what.replace(' ', '-')}.png"))
        raise


def shot(driver, name: str) -> None:
    """A full-page screenshot: grow the window to the page height, save, restore."""
    h, chrome = driver.execute_script(
        "return [Math.max(document.documentElement.scrollHeight, document.body.scrollHeight),"
        " window.outerHeight - window.innerHeight]")
    driver.set_window_size(1400, max(800, min(int(h) + int(chrome) + 4, 7000)))
    time.sleep(0.15)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1400, 1000)


def js_errors(driver) -> list[str]:
    try:
        logs = driver.get_log("browser")
    except Exception:  # noqa: BLE001 - not every driver exposes logs
        return []
    # network errors are expected (the error-path checks ask for 400/404 on purpose); script errors are not
    return [e["message"] for e in logs if e.get("level") == "SEVERE" and e.get("source") != "network"]


def press(driver, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).send_keys(keys).perform()


def row_status(driver, notation: str) -> str:
    By = _by()
    return driver.find_element(By.CSS_SELECTOR, f'tr.comp-row[data-competency="{notation}"]').get_attribute("data-status")


def card(driver, status: str) -> int:
    By = _by()
    return int(driver.find_element(By.CSS_SELECTOR, f'#summary .card[data-status="{status}"] .n').text)


def test_upload_review_and_the_heatmap_changes(live_server, browser, tmp_path):
    By = _by()
    base, _app = live_server
    d = browser

    # Sign in: a signed-out visitor is sent to the sign-in page, and back after.
    d.get(f"{base}/programs/md")
    arrive(d, lambda d: "/signin" in d.current_url, what="the sign-in page")
    shot(d, "01-signin")
    d.find_element(By.ID, "name").send_keys(USER)
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    arrive(d, lambda d: d.current_url.endswith("/programs/md"), what="the dashboard after sign-in")
    assert d.find_element(By.ID, "current-user").text == USER

    # The dashboard before: PC10 is not taught anywhere.
    assert row_status(d, TARGET) == "not_taught"
    assert not d.find_elements(By.CSS_SELECTOR, f'tr.comp-row[data-competency="{TARGET}"] td.cell[data-course]')
    not_taught_before = card(d, "not_taught")
    shot(d, "02-dashboard-before")
    d.find_element(By.LINK_TEXT, "Upload").click()
    arrive(d, lambda d: d.current_url.endswith("/programs/md/upload"), what="the upload page")

    # Upload a DOCX syllabus for an existing course, with progress, and see its objectives.
    docx = make_docx(tmp_path / "ccm403-virtual-care.docx")
    from selenium.webdriver.support.ui import Select
    Select(d.find_element(By.ID, "course-select")).select_by_value(COURSE)
    d.find_element(By.ID, "file").send_keys(str(docx))
    shot(d, "03-upload-form")
    d.find_element(By.ID, "upload-button").click()
    wait(d, lambda d: d.find_element(By.ID, "result").is_displayed()
         or d.find_element(By.ID, "upload-error").is_displayed(), timeout=120, what="the upload result")
    assert not d.find_element(By.ID, "upload-error").is_displayed(), d.find_element(By.ID, "upload-error").text
    rows = d.find_elements(By.CSS_SELECTOR, "#objectives tbody tr")
    assert len(rows) == 4
    texts = [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]
    assert texts[0].startswith("Conduct a video telehealth consultation")
    assert rows[0].find_elements(By.TAG_NAME, "td")[2].text.lower() == "apply"  # Bloom level
    assert "version 1" in d.find_element(By.ID, "result-meta").text
    shot(d, "04-upload-extracted")

    # The review queue for that course: the evidence is highlighted; accept with the keyboard.
    d.find_element(By.ID, "review-link").click()
    arrive(d, lambda d: f"course={COURSE}" in d.current_url, what="the review queue")
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "tr.sugg.current"), what="a selected suggestion")
    assert d.find_elements(By.CSS_SELECTOR, "article.objective .otext mark")
    assert {a.get_attribute("data-course") for a in d.find_elements(By.CSS_SELECTOR, "article.objective")} == {COURSE}
    shot(d, "05-review-queue")
    press(d, "?")
    wait(d, lambda d: d.find_element(By.ID, "help").get_attribute("open") is not None, what="the help dialog")
    shot(d, "06-review-help")
    press(d, "\ue00c")  # Escape closes the dialog
    wait(d, lambda d: d.find_element(By.ID, "help").get_attribute("open") is None, what="the help to close")

    pending = d.find_elements(By.CSS_SELECTOR, f'tr.sugg[data-status="suggested"][data-notation="{TARGET}"]')
    if pending:
        # move with j/k until the PC10 suggestion is the selected one, then press a
        for _ in range(20):
            if d.find_element(By.CSS_SELECTOR, "tr.sugg.current").get_attribute("data-notation") == TARGET:
                break
            press(d, "j")
        row = d.find_element(By.CSS_SELECTOR, "tr.sugg.current")
        assert row.get_attribute("data-notation") == TARGET
        alignment = row.get_attribute("data-alignment")
        press(d, "a")
    else:
        # the model did not propose PC10: replace the first suggestion by it through the search box
        row = d.find_element(By.CSS_SELECTOR, "tr.sugg.current")
        press(d, "e")
        box = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, "input.comp-search"), what="the search box")
        box.send_keys("telehealth")
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, ".search-box button.pick"), what="search results")
        shot(d, "07-review-replace")
        box.send_keys("\ue007")  # Enter picks the first match
        wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr.sugg[data-notation="{TARGET}"][data-status="accepted"]'),
             what="the replacement")
        alignment = d.find_element(By.CSS_SELECTOR, f'tr.sugg[data-notation="{TARGET}"]').get_attribute("data-alignment")
    accepted = f'tr.sugg[data-alignment="{alignment}"][data-status="accepted"]'
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, accepted), what="the suggestion to be accepted in place")
    assert USER in d.find_element(By.CSS_SELECTOR, f"{accepted} td.status").text
    # its history, with PROV: who and from which status
    d.find_element(By.CSS_SELECTOR, f'{accepted} a[data-act="history"]').click()
    hist = wait(d, lambda d: d.find_element(By.CSS_SELECTOR, "tr.history-row table.history"), what="the history")
    assert USER in hist.text and "suggested" in hist.text and "accepted" in hist.text
    shot(d, "08-review-accepted")

    # Add a competency by hand to the other telehealth objective (search box), and mark the accepted
    # objective as assessed by one of the course's assessments.
    other = d.find_element(By.XPATH, "//article[contains(@data-text, 'video telehealth consultation')]")
    other.find_element(By.CSS_SELECTOR, 'button[data-act="add"]').click()
    box = wait(d, lambda d: other.find_element(By.CSS_SELECTOR, "input.comp-search"), what="the search box")
    box.send_keys("privacy")
    wait(d, lambda d: other.find_elements(By.CSS_SELECTOR, ".search-box button.pick"), what="search results")
    shot(d, "09-review-search")
    picked = other.find_element(By.CSS_SELECTOR, ".search-box button.pick code").text
    box.send_keys("\ue007")  # Enter picks the first match
    wait(d, lambda d: other.find_elements(By.CSS_SELECTOR, f'tr.sugg[data-notation="{picked}"][data-status="accepted"]'),
         what="the hand-added alignment")
    first = d.find_element(By.XPATH, f"//tr[@data-alignment='{alignment}']/ancestor::article")
    options = first.find_elements(By.CSS_SELECTOR, f'select.assessment optgroup[label="{COURSE}"] option')
    assert options, "the course's own assessments are offered first"
    Select(first.find_element(By.CSS_SELECTOR, "select.assessment")).select_by_value(options[0].get_attribute("value"))
    first.find_element(By.CSS_SELECTOR, 'button[data-act="assessed"]').click()
    wait(d, lambda d: "Assessed by" in first.find_element(By.CSS_SELECTOR, "footer .msg").text, what="assessed-by")

    # The dashboard after: PC10 is now taught in CCM-403, and assessed there (through the objective).
    d.find_element(By.LINK_TEXT, "Dashboard").click()
    wait(d, lambda d: d.find_elements(By.ID, "heatmap"), what="the dashboard")
    assert row_status(d, TARGET) == "covered"
    cell = d.find_element(By.CSS_SELECTOR, f'tr.comp-row[data-competency="{TARGET}"] td.cell[data-course="{COURSE}"]')
    assert "lv" in cell.get_attribute("class") and " as" in cell.get_attribute("class")
    assert card(d, "not_taught") == not_taught_before - 1
    shot(d, "10-dashboard-after")
    # Year 1 alone: nothing of that counts, PC10 is not taught there.
    d.get(f"{base}/programs/md?year=1")
    assert row_status(d, TARGET) == "not_taught"
    d.get(f"{base}/programs/md?course={COURSE}&role=attending")
    assert row_status(d, TARGET) in ("covered", "below_required_level")
    assert len(d.find_elements(By.CSS_SELECTOR, "th.course-head")) == 1
    shot(d, "11-dashboard-filtered")
    assert not js_errors(d)


def test_competency_role_and_sparql_pages(live_server, browser, tmp_path):
    By = _by()
    base, _app = live_server
    d = browser

    d.get(f"{base}/")
    assert d.find_element(By.LINK_TEXT, "dashboard")
    shot(d, "12-home")

    d.get(f"{base}/competencies/hpc/{TARGET}")
    assert "Virtual care" in d.find_element(By.TAG_NAME, "h1").text
    assert "Telehealth" in d.page_source
    taught = d.find_element(By.ID, "taught").text
    assert COURSE in taught  # accepted in the story above (same module, same store)
    shot(d, "13-competency-PC10")
    d.get(f"{base}/competencies/hpc/PC1")
    assert d.find_elements(By.CSS_SELECTOR, "table.milestones tbody tr")
    shot(d, "14-competency-PC1")

    d.get(f"{base}/roles/intern?program=md")
    assert d.find_elements(By.CSS_SELECTOR, 'table.requirements tr[data-readiness="below_level"]')
    assert d.find_element(By.ID, "next-roles").find_elements(By.TAG_NAME, "a")
    shot(d, "15-role-intern")
    d.get(f"{base}/roles")
    shot(d, "16-roles")

    d.get(f"{base}/sparql/ui")
    d.find_element(By.XPATH, "//button[contains(@class,'example') and contains(., 'Decisions by reviewer')]").click()
    wait(d, lambda d: "row" in d.find_element(By.ID, "sparql-status").text, what="the SPARQL results")
    assert USER in d.find_element(By.ID, "results-table").text
    shot(d, "17-sparql")
    q = d.find_element(By.ID, "query")
    q.clear()
    q.send_keys("SELECT ?x WHERE { ?x gm:nope }")
    d.find_element(By.ID, "run").click()
    err = wait(d, lambda d: d.find_element(By.ID, "sparql-error") if d.find_element(By.ID, "sparql-error").is_displayed()
               else None, what="the SPARQL error")
    assert err.text
    shot(d, "18-sparql-error")

    # a bad upload: the API's problem detail is shown on the page, nothing is stored
    d.get(f"{base}/programs/md/upload")
    d.find_element(By.ID, "file").send_keys(str(FIXTURES / "corrupt.pdf"))
    d.find_element(By.ID, "upload-button").click()
    err = wait(d, lambda d: d.find_element(By.ID, "upload-error") if d.find_element(By.ID, "upload-error").is_displayed()
               else None, timeout=60, what="the upload error")
    assert "corrupt" in err.text.lower()
    assert not d.find_element(By.ID, "result").is_displayed()
    shot(d, "19-upload-error")

    # a new course, created by its syllabus
    d.get(f"{base}/programs/md/upload")
    d.find_element(By.CSS_SELECTOR, 'input[name="mode"][value="new"]').click()
    assert not d.find_element(By.ID, "course-select").is_enabled()
    d.find_element(By.ID, "new-code").send_keys("MED-420")
    d.find_element(By.ID, "new-year").send_keys("4")
    d.find_element(By.ID, "new-title").send_keys("Telehealth Practicum")
    d.find_element(By.ID, "file").send_keys(str(make_docx(tmp_path / "med420.docx", "MED-420 Telehealth Practicum")))
    d.find_element(By.ID, "upload-button").click()
    wait(d, lambda d: d.find_element(By.ID, "result").is_displayed()
         or d.find_element(By.ID, "upload-error").is_displayed(), timeout=120, what="the new course's upload")
    assert not d.find_element(By.ID, "upload-error").is_displayed(), d.find_element(By.ID, "upload-error").text
    assert "MED-420" in d.find_element(By.ID, "result-meta").text
    assert d.find_element(By.ID, "review-link").get_attribute("href").endswith("course=MED-420")
    shot(d, "20-upload-new-course")
    d.get(f"{base}/programs/md?year=4")
    assert d.find_elements(By.CSS_SELECTOR, 'th.course-head[title^="MED-420 "]')

    d.get(f"{base}/frameworks/hpc")
    shot(d, "21-framework")
    d.get(f"{base}/roles/nobody")
    assert "404" in d.find_element(By.TAG_NAME, "h1").text
    shot(d, "22-not-found")
    d.get(f"{base}/ns")
    shot(d, "23-vocabulary")
    assert not js_errors(d)


def _sign_in(d, base, app, user, role="viewer"):
    sign_in(d, base, app, user, role)

def test_careers_profile_plan_mentoring_pipeline(live_server, browser):
    """A clinician opens her profile, picks a target role, gets a plan and a mentor; a workforce lead
    sees the mentor matching and the pipeline report."""
    from selenium.webdriver.support.ui import Select
    By = _by()
    base, app = live_server
    d = browser
    _sign_in(d, base, app, "r.reyes")  # Dr. Rosa Reyes (p030) herself
    d.get(f"{base}/people/p030")
    assert "Dr. Rosa Reyes" in d.find_element(By.TAG_NAME, "h1").text
    assert d.find_elements(By.CSS_SELECTOR, "#competencies tbody tr[data-competency]")
    Select(d.find_element(By.CSS_SELECTOR, "#role-picker select[name=role]")).select_by_value("program-director")
    arrive(d, lambda d: "role=program-director" in d.current_url, what="the target role")
    kinds = [li.get_attribute("data-kind") for li in d.find_elements(By.CSS_SELECTOR, "#pathway ol.steps li")]
    assert kinds == ["track_change", "advancement"]
    assert d.find_elements(By.CSS_SELECTOR, '#gap tr[data-status="missing"]')
    shot(d, "30-profile")
    d.find_element(By.ID, "plan-link").click()
    arrive(d, lambda d: "/plan" in d.current_url, what="the plan page")
    hours = d.find_element(By.CSS_SELECTOR, "#plan-summary .card:nth-child(2) .n").text
    assert d.find_elements(By.CSS_SELECTOR, "#plan-items tr[data-item]")
    assert "covers" in d.find_element(By.ID, "mentor").text
    shot(d, "31-plan-hours")
    Select(d.find_element(By.CSS_SELECTOR, "#role-picker select[name=objective]")).select_by_value("cost")
    arrive(d, lambda d: "objective=cost" in d.current_url, what="the cost plan")
    assert d.find_element(By.CSS_SELECTOR, "#plan-summary .card:nth-child(2) .n").text.endswith("h")
    shot(d, "32-plan-cost")
    assert hours
    _sign_in(d, base, app, "dr.chair", "committee")  # a workforce lead (committee)
    d.get(f"{base}/mentoring?mode=full")
    assert len(d.find_elements(By.CSS_SELECTOR, "#matches tr[data-mentee]")) >= 10
    Select(d.find_element(By.CSS_SELECTOR, "select[name=department]")).select_by_value("same")
    arrive(d, lambda d: "department=same" in d.current_url, what="the same-department matching")
    shot(d, "33-mentoring")
    d.get(f"{base}/pipeline")
    assert d.find_elements(By.CSS_SELECTOR, 'section.pipeline-role[data-role="intern"] tr.uncovered')
    shot(d, "34-pipeline")
    assert not js_errors(d)
