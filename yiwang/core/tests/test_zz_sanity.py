import pytest
from yiwang.core.tests.browser_pages import Walk
from yiwang.core.tests.test_browser import browser  # noqa

pytestmark = pytest.mark.django_db(transaction=True)


def test_sanity(browser, live_server):
    problems = {}
    with Walk(browser, live_server.url, None, problems) as walk:
        walk.check("/login", lambda page, _: page.evaluate(
            "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x><pre>'+'x'.repeat(200)+'</pre><h1>x</h1>')"))
    print(problems)
    assert len(problems) == 3
