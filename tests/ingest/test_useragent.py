"""UA parsing: real user-agent strings → browser, OS, device, bot flag."""

from __future__ import annotations

import sys

import pytest

from postmetric.ingest import useragent
from postmetric.ingest.useragent import UserAgentInfo, UserAgentParser


@pytest.fixture(scope="module")
def parser() -> UserAgentParser:
    return UserAgentParser()


# (id, UA, browser, browser_version, os, os_version, device)
DESKTOP = [
    ("chrome-windows",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120.0", "Windows", "10", "desktop"),
    ("chrome-windows7",
     "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
     "Chrome", "109.0", "Windows", "7", "desktop"),
    ("firefox-ubuntu",
     "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox", "121.0", "GNU/Linux", "", "desktop"),
    ("firefox-linux",
     "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
     "Firefox", "128.0", "GNU/Linux", "", "desktop"),
    ("safari-macos",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
     "Safari", "17.2", "macOS", "10.15", "desktop"),
    ("firefox-macos",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox", "121.0", "macOS", "14.2", "desktop"),
    ("edge-windows",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge", "120.0", "Windows", "10", "desktop"),
    ("opera-windows",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0",
     "Opera", "105.0", "Windows", "10", "desktop"),
    ("chrome-chromeos",
     "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120.0", "ChromeOS", "14541.0", "desktop"),
    ("ie11",
     "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
     "Internet Explorer", "11.0", "Windows", "10", "desktop"),
    ("android-tv",
     "Mozilla/5.0 (Linux; Android 10; BRAVIA 4K UR2 Build/QTG3.200305.006.S292; wv) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Version/4.0 Chrome/120.0 Safari/537.36",
     "Chrome", "120.0", "Android", "10", "desktop"),
]

MOBILE = [
    ("safari-iphone",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari", "17.2", "iOS", "17.2", "mobile"),
    ("chrome-iphone",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "120.0", "iOS", "17.2", "mobile"),
    ("chrome-android",
     "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
     "Chrome", "120.0", "Android", "10", "mobile"),
    ("samsung-internet",
     "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "23.0", "Android", "13", "mobile"),
    ("firefox-android",
     "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
     "Firefox", "121.0", "Android", "14", "mobile"),
    ("instagram-iphone",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "Instagram 307.0.0.21.111 (iPhone14,5; iOS 17_1_2; en_US; en; scale=3.00; 1170x2532; 531994542)",
     "Instagram", "307.0", "iOS", "17.1", "mobile"),
    ("facebook-iphone",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "[FBAN/FBIOS;FBDV/iPhone13,2;FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
     "Facebook", "", "iOS", "16.6", "mobile"),
    ("facebook-android-webview",
     "Mozilla/5.0 (Linux; Android 13; SM-A515F Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/444.0.0.33.118;]",
     "Facebook", "444.0", "Android", "13", "mobile"),
    ("edge-android",
     "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
     "Edge", "120.0", "Android", "10", "mobile"),
    ("google-app-iphone",
     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "GSA/300.0.598994205 Mobile/15E148 Safari/604.1",
     "Google App", "300.0", "iOS", "17.2", "mobile"),
]

TABLET = [
    ("safari-ipad",
     "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
     "Safari", "16.6", "iPadOS", "16.6", "tablet"),
    ("chrome-android-tablet",
     "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "120.0", "Android", "13", "tablet"),
    ("firefox-android-tablet",
     "Mozilla/5.0 (Android 13; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0",
     "Firefox", "121.0", "Android", "13", "tablet"),
    ("kindle-fire-silk",
     "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/119.3.1 like Chrome/119.0.6045.193 Safari/537.36",
     "Amazon Silk", "119.3", "Android", "9", "tablet"),
    ("kindle-ereader",
     "Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ (KHTML, like Gecko) Version/5.0 Safari/531.2+ Kindle/3.0+",
     "Kindle", "3.0", "Kindle", "3.0", "tablet"),
]

BOTS = [
    ("googlebot",
     "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     "Googlebot", "2.1", "", "", "desktop"),
    ("googlebot-smartphone",
     "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.6099.224 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     "Googlebot", "2.1", "Android", "6.0", "mobile"),
    ("bingbot",
     "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) "
     "Chrome/116.0.1938.76 Safari/537.36",
     "bingbot", "2.0", "", "", "desktop"),
    ("gptbot",
     "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; +https://openai.com/gptbot",
     "GPTBot", "1.2", "", "", "desktop"),
    ("claudebot",
     "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
     "ClaudeBot", "1.0", "", "", "desktop"),
    ("ahrefsbot",
     "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
     "AhrefsBot", "7.0", "", "", "desktop"),
    ("headless-chrome",
     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36",
     "HeadlessChrome", "120.0", "GNU/Linux", "", "desktop"),
    ("curl", "curl/8.5.0", "curl", "8.5", "", "", "desktop"),
    ("wget", "Wget/1.21.4", "Wget", "1.21", "", "", "desktop"),
    ("python-requests", "python-requests/2.31.0", "Python Requests", "2.31", "", "", "desktop"),
    ("go-http-client", "Go-http-client/2.0", "Go-http-client", "2.0", "", "", "desktop"),
    ("node-fetch", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "", "", "", "", "desktop"),
    ("facebookexternalhit",
     "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
     "FacebookBot", "1.1", "", "", "desktop"),
    ("uptimerobot",
     "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
     "UptimeRobot", "2.0", "", "", "desktop"),
    ("pingdom",
     "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
     "PingdomBot", "1.4", "", "", "desktop"),
    # Caught only by the extra tokens (neither library flags these).
    ("postman", "PostmanRuntime/7.36.0", "PostmanRuntime", "7.36", "", "", "desktop"),
    ("jsdom",
     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 jsdom/22.1.0",
     "Chrome", "120.0", "GNU/Linux", "", "desktop"),
    ("cypress",
     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Cypress/13.6.2",
     "Chrome", "120.0", "Windows", "10", "desktop"),
    # Electron (Nightmare and other scrapers run on it): the tracking script leaves this check
    # to the server.
    ("electron",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) my-app/1.0.0 "
     "Chrome/120.0.6099.291 Electron/28.2.3 Safari/537.36",
     "Electron", "28.2", "macOS", "10.15", "desktop"),
    # Caught only because nothing at all is recognised.
    ("bare-mozilla", "Mozilla/5.0", "", "", "", "", "desktop"),
    ("nuclei-scanner",
     "Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))",
     "", "", "", "", "desktop"),
]


def _params(rows, is_bot):
    return [pytest.param(ua, UserAgentInfo(b, bv, o, ov, d, is_bot), id=i) for i, ua, b, bv, o, ov, d in rows]


@pytest.mark.parametrize(
    ("ua", "expected"),
    _params(DESKTOP, False) + _params(MOBILE, False) + _params(TABLET, False) + _params(BOTS, True),
)
def test_parse(parser: UserAgentParser, ua: str, expected: UserAgentInfo) -> None:
    assert parser.parse(ua) == expected


@pytest.mark.parametrize("ua", ["", "   ", "-", "x" * 1001])
def test_empty_short_or_huge_ua_is_a_bot(parser: UserAgentParser, ua: str) -> None:
    info = parser.parse(ua)
    assert info.is_bot
    assert info.browser == "" and info.os == ""


def test_results_are_cached_per_string() -> None:
    p = UserAgentParser(cache_size=2)
    ua = DESKTOP[0][1]
    assert p.parse(ua) is p.parse(ua)
    assert p.cache_info().hits == 1


def test_no_cache() -> None:
    p = UserAgentParser(cache_size=0)
    assert p.parse(MOBILE[0][1]).device == "mobile"


def test_fallback_without_rust_matches_the_same_bots(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def UserAgentExtractor(self, *_args):  # noqa: N802 - mimics the module attribute
            raise RuntimeError("no rust")

    monkeypatch.setitem(sys.modules, "ua_parser_rs", Broken())
    is_crawler = useragent._crawler_matcher()
    monkeypatch.undo()
    fast = useragent._crawler_matcher()
    for _id, ua, *_ in DESKTOP + MOBILE + TABLET + BOTS:
        assert is_crawler(ua) == fast(ua), ua
    assert fast("Mozilla/5.0 (compatible; Googlebot/2.1)") and fast("x Selenium y")
