"""Parsing at the edge: every malformed input gets an IngestError that names the problem."""

import uuid

import pytest

from postmetric.ingest.event import EventType
from postmetric.ingest.request import IngestError, parse_event, parse_query_params, parse_server_events
from postmetric.web.errors import status_of

NOW = 1_780_000_000.0
VALID = b'{"websiteId":"pm_abc","type":"pageview","href":"https://example.com/a?x=1"}'


def parse(body: bytes):
    return parse_event(body, ip="1.2.3.4", user_agent="UA", now=NOW)


def test_a_minimal_pageview_parses():
    event = parse(VALID)
    assert (event.site_public_id, event.type, event.name, event.href) == (
        "pm_abc", EventType.PAGEVIEW, "pageview", "https://example.com/a?x=1")
    assert (event.ip, event.user_agent, event.timestamp) == ("1.2.3.4", "UA", NOW)


def test_every_field_is_read():
    vid, sid = uuid.uuid4(), uuid.uuid4()
    event = parse(
        b'{"websiteId":"pm_abc","type":"goal","name":"signup","href":"https://example.com/",'
        b'"referrer":"https://news.ycombinator.com/","title":"Home","visitorId":"%s","sessionId":"%s",'
        b'"viewport":{"width":1280,"height":720},"props":{"plan":"pro","seats":3,"trial":true,"x":null},'
        b'"scrollDepth":55,"engagedMs":1200,"adClickIds":{"gclid":"abc"}}' % (str(vid).encode(), str(sid).encode())
    )
    assert event.type is EventType.GOAL and event.name == "signup"
    assert event.referrer == "https://news.ycombinator.com/" and event.title == "Home"
    assert (event.client_visitor_id, event.client_session_id) == (str(vid), str(sid))
    assert (event.viewport_width, event.viewport_height) == (1280, 720)
    assert event.props == {"plan": "pro", "seats": "3", "trial": "true"}
    assert (event.scroll_depth, event.engaged_ms, event.click_ids) == (55, 1200, {"gclid": "abc"})


@pytest.mark.parametrize("alias, expected", [("custom", EventType.GOAL), ("external_link", EventType.OUTBOUND)])
def test_type_aliases(alias, expected):
    body = b'{"websiteId":"pm_abc","type":"%s","name":"x","href":"https://example.com/"}' % alias.encode()
    assert parse(body).type is expected


def test_long_titles_and_referrers_are_truncated_not_refused():
    body = (b'{"websiteId":"pm_abc","type":"pageview","href":"https://example.com/","title":"%s","referrer":"https://r.com/%s"}'
            % (b"t" * 900, b"r" * 3000))
    event = parse(body)
    assert len(event.title) == 500 and len(event.referrer) == 2048


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{not json", "malformed JSON"),
        (b"[]", "Expected `object`, got `array`"),
        (b'"text"', "Expected `object`, got `str`"),
        (b'{"type":"pageview","href":"https://example.com/"}', "missing required field `websiteId`"),
        (b'{"websiteId":"pm_abc","href":"https://example.com/"}', "missing required field `type`"),
        (b'{"websiteId":"pm_abc","type":"pageview"}', "missing required field `href`"),
        (b'{"websiteId":5,"type":"pageview","href":"https://e.com/"}', "Expected `str`, got `int` - at `$.websiteId`"),
        (b'{"websiteId":"pm_abc","type":"click","href":"https://e.com/"}', "type must be one of"),
        (b'{"websiteId":"pm_abc","type":"goal","href":"https://e.com/"}', "name is required for goal events"),
        (b'{"websiteId":"pm_abc","type":"goal","name":"Sign Up","href":"https://e.com/"}', "lowercase"),
        (b'{"websiteId":"pm_abc","type":"goal","name":"%s","href":"https://e.com/"}' % (b"a" * 65), "1-64"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"/relative"}', "href must be an absolute http(s) URL"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"javascript:alert(1)"}', "absolute http(s) URL"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/%s"}' % (b"a" * 2048), "length <= 2048 - at `$.href`"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","visitorId":"abc"}', "visitorId must be a UUID"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","sessionId":"x"}', "sessionId must be a UUID"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","viewport":{"width":"wide","height":1}}', "at `$.viewport.width`"),
        (b'{"websiteId":"pm_abc","type":"engagement","href":"https://e.com/","scrollDepth":101}', "<= 100 - at `$.scrollDepth`"),
        (b'{"websiteId":"pm_abc","type":"engagement","href":"https://e.com/","engagedMs":-1}', ">= 0 - at `$.engagedMs`"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","props":[1]}', "at `$.props`"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","props":{"Bad Key":"v"}}', "props key 'Bad Key'"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","props":{"k":{"nested":1}}}', "at `$.props[...]`"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","props":{"k":"%s"}}' % (b"v" * 256), "props.k is longer than 255"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","props":{%s}}'
         % b",".join(b'"k%d":"v"' % i for i in range(21)), "at most 20 keys"),
        (b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","adClickIds":{"gclid":1}}', "at `$.adClickIds[...]`"),
    ],
)
def test_malformed_input_is_refused_with_a_message(body, message):
    with pytest.raises(IngestError) as refused:
        parse(body)
    assert status_of(type(refused.value)) == 400
    assert message in refused.value.message


def test_browsers_cannot_set_server_side_fields():
    event = parse(b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/",'
                  b'"timestamp":"2020-01-01T00:00:00Z","ip":"9.9.9.9","userAgent":"Forged"}')
    assert (event.timestamp, event.ip, event.user_agent) == (NOW, "1.2.3.4", "UA")


def test_server_side_events_take_timestamp_ip_and_user_agent():
    [event] = parse_server_events(
        b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/",'
        b'"timestamp":"2026-01-02T03:04:05+01:00","ip":"9.9.9.9","userAgent":"Server UA"}',
        ip="1.2.3.4", user_agent="UA", now=NOW)
    assert event.timestamp == 1767319445.0  # 2026-01-02T02:04:05Z
    assert (event.ip, event.user_agent) == ("9.9.9.9", "Server UA")


def test_server_side_batches_report_the_bad_index():
    good = b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/"}'
    bad = b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/","ip":"not-an-ip"}'
    with pytest.raises(IngestError, match=r"event \[1\]: ip is not an IP address"):
        parse_server_events(b"[" + good + b"," + bad + b"]", ip="1.2.3.4", user_agent="UA", now=NOW)
    with pytest.raises(IngestError, match="timestamp: is in the future"):
        parse_server_events(b'{"websiteId":"pm_abc","type":"pageview","href":"https://e.com/",'
                            b'"timestamp":"2099-01-01T00:00:00Z"}', ip="1.2.3.4", user_agent="UA", now=NOW)
    with pytest.raises(IngestError, match="at most 1000 events"):
        parse_server_events(b"[" + b",".join([good] * 1001) + b"]", ip="1.2.3.4", user_agent="UA", now=NOW)
    with pytest.raises(IngestError, match="empty"):
        parse_server_events(b"[]", ip="1.2.3.4", user_agent="UA", now=NOW)


def test_query_parameters_of_the_pixel():
    event = parse_query_params(
        {"websiteId": "pm_abc", "type": "pageview", "href": "https://e.com/mail", "props": '{"campaign":"nov"}',
         "scrollDepth": "40", "unknown": "ignored"},
        ip="1.2.3.4", user_agent="UA", now=NOW)
    assert (event.href, event.props, event.scroll_depth) == ("https://e.com/mail", {"campaign": "nov"}, 40)
    with pytest.raises(IngestError, match="props must be a JSON object"):
        parse_query_params({"websiteId": "pm_abc", "type": "pageview", "href": "https://e.com/", "props": "{"},
                           ip="1.2.3.4", user_agent="UA", now=NOW)
    with pytest.raises(IngestError, match="missing required field `href`"):
        parse_query_params({"websiteId": "pm_abc", "type": "pageview"}, ip="1.2.3.4", user_agent="UA", now=NOW)
