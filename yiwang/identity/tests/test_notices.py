"""Account notices are stored as message keys with parameters and read in the reader's
language (issue 9 §6), whatever language the actor used when the notice was sent."""

from html import escape

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation
from django.utils.translation import gettext as _

from yiwang.identity import notice_texts, services
from yiwang.identity.models import AccountNotice
from yiwang.identity.tests.test_security import delegate, legal_entity

BEFORE = [("identity", "0003_realname_levels_and_registers")]
AFTER = [("identity", "0004_accountnotice_message_key")]


def account_page(client, language: str) -> str:
    response = client.get("/account", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def registered(agent, enterprise):
    legal_entity(enterprise.credit_code, enterprise.name, agent.person)
    return enterprise


@pytest.mark.django_db
def test_a_notice_sent_in_chinese_reads_in_english(login, registered, agent, citizen):
    with translation.override("zh-hans"):
        agency = delegate(registered, agent, citizen.person)
    notice = AccountNotice.objects.get(user=citizen)
    until = agency.valid_until.isoformat()
    assert notice.message_key == notice_texts.DELEGATION_GRANTED
    assert notice.params == {"name": registered.name, "date": until}
    english = account_page(login(citizen), "en")
    assert escape(f"You may now act for {registered.name}") in english
    assert f"Its legal representative delegated you until {until}. See My account." in english
    assert "您现在可以代表" not in english


@pytest.mark.django_db
def test_a_notice_sent_in_english_reads_in_chinese(login, registered, agent, citizen):
    agency = delegate(registered, agent, citizen.person)
    with translation.override("en"):
        services.delegation_revoke(agency=agency, actor=citizen)
    notice = AccountNotice.objects.get(user=agent)
    assert (notice.message_key, notice.params) == (notice_texts.DELEGATION_ENDED, {"name": registered.name})
    chinese = account_page(login(agent), "zh-hans")
    with translation.override("zh-hans"):
        subject = _("A delegation for %(name)s ended") % {"name": registered.name}
        body = _("See My account for who acts for the enterprise now.")
    assert escape(subject) in chinese and escape(body) in chinese
    assert "ended" not in chinese
    # The row keeps its zh-Hans rendering for the email.
    assert (notice.subject, notice.body) == (subject, body)


@pytest.mark.django_db(transaction=True)
def test_legacy_notices_get_their_keys_back_and_unknown_ones_stay_as_written():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("identity", "User").objects.create(username="legacy", password="!")
    notices = old.get_model("identity", "AccountNotice")
    rows = []
    for language, name in (("zh-hans", "某某有限公司"), ("en", "Example Ltd")):
        with translation.override(language):
            rows.append(
                notices.objects.create(
                    user=user,
                    subject=_("You may now act for %(name)s") % {"name": name},
                    body=_("Its legal representative delegated you until %(date)s. See My account.")
                    % {"date": "2027-01-31"},
                )
            )
    with translation.override("zh-hans"):
        rows.append(notices.objects.create(user=user, subject=_("Your identity is no longer verified")))
    rows.append(notices.objects.create(user=user, subject="旧的通知", body="原样显示"))

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the schema as the suite expects

    notices = [AccountNotice.objects.get(pk=row.pk) for row in rows]
    assert [(n.message_key, n.params) for n in notices] == [
        ("delegation.granted", {"name": "某某有限公司", "date": "2027-01-31"}),
        ("delegation.granted", {"name": "Example Ltd", "date": "2027-01-31"}),
        ("identity.demoted", {}),
        ("", {}),
    ]
    with translation.override("en"):
        assert notices[0].subject_text == "You may now act for 某某有限公司"
        assert notices[2].subject_text == "Your identity is no longer verified"
        assert (notices[3].subject_text, notices[3].body_text) == ("旧的通知", "原样显示")
    with translation.override("zh-hans"):
        assert notices[1].subject_text == _("You may now act for %(name)s") % {"name": "Example Ltd"}


def test_an_unknown_key_or_missing_parameter_renders_nothing_rather_than_failing():
    assert notice_texts.subject("no.such.key", {}) == ""
    assert notice_texts.subject(notice_texts.DELEGATION_ENDED, {}) == ""
    assert AccountNotice(subject="原文", message_key=notice_texts.DELEGATION_ENDED).subject_text == "原文"


def test_every_message_has_a_translation():
    with translation.override("zh-hans"):
        for subject, body in notice_texts.MESSAGES.values():
            assert _(subject) != subject and _(body) != body


def test_a_notice_with_an_unknown_key_is_a_programming_error():
    with pytest.raises(ValueError, match="no.such.key"):
        services.account_notify(user=None, key="no.such.key")
