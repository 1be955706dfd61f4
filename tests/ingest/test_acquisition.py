"""Table tests for referrer/UTM -> (source, channel) attribution."""

from __future__ import annotations

import dataclasses

import pytest

from postmetric.ingest.acquisition import CHANNELS, Acquisition, classify


def case(
    source: str,
    channel: str,
    *,
    host: str = "",
    src: str = "",
    med: str = "",
    camp: str = "",
    ref: str = "",
    ids: tuple[str, ...] = (),
    id: str,
):
    return pytest.param(host, src, med, camp, ref, frozenset(ids), source, channel, id=id)


CASES = [
    # --- Direct
    case("", "Direct", id="nothing"),
    case("", "Direct", camp="spring", id="campaign-only-is-direct"),
    case("", "Direct", ids=("unknown_click_id",), id="unknown-click-id-ignored"),
    case("", "Direct", med="(none)", id="medium-none-placeholder"),
    # --- Organic Search
    case("Google", "Organic Search", host="google.com", id="google.com"),
    case("Google", "Organic Search", host="www.google.com", id="www.google.com"),
    case("Google", "Organic Search", host="google.de", id="google.de"),
    case("Google", "Organic Search", host="google.co.uk", id="google.co.uk"),
    case("Google", "Organic Search", host="google.com.au", id="google.com.au"),
    case("Google", "Organic Search", host="com.google.android.googlequicksearchbox", id="app"),
    case("Bing", "Organic Search", host="bing.com", id="bing"),
    case("Bing", "Organic Search", host="cn.bing.com", id="bing-subdomain"),
    case("DuckDuckGo", "Organic Search", host="duckduckgo.com", id="duckduckgo"),
    case("Yahoo", "Organic Search", host="search.yahoo.com", id="yahoo"),
    case("Yahoo", "Organic Search", host="de.search.yahoo.com", id="yahoo-country-subdomain"),
    case("Yandex", "Organic Search", host="yandex.ru", id="yandex.ru"),
    case("Yandex", "Organic Search", host="yandex.com.tr", id="yandex.com.tr"),
    case("Baidu", "Organic Search", host="baidu.com", id="baidu"),
    case("Ecosia", "Organic Search", host="ecosia.org", id="ecosia"),
    case("Brave Search", "Organic Search", host="search.brave.com", id="brave"),
    case("Startpage", "Organic Search", host="startpage.com", id="startpage"),
    case("Qwant", "Organic Search", host="qwant.com", id="qwant"),
    case("Naver", "Organic Search", host="search.naver.com", id="naver"),
    case("Seznam", "Organic Search", host="search.seznam.cz", id="seznam"),
    case("Kagi", "Organic Search", host="kagi.com", id="kagi"),
    case("Google", "Organic Search", src="google", med="organic", id="utm-google-organic"),
    case("Google", "Organic Search", src="Google", id="utm-google-no-medium"),
    case("Google", "Organic Search", ref="https://www.google.de/search?q=x", id="ref-url"),
    case("my-seo", "Organic Search", src="my-seo", med="organic", id="medium-organic"),
    # --- Paid Search
    case("Google", "Paid Search", ids=("gclid",), id="gclid-alone"),
    case("Google", "Paid Search", host="google.com", ids=("gclid",), id="gclid-from-google"),
    case("Google", "Paid Search", ids=("wbraid",), id="wbraid"),
    case("Google", "Paid Search", src="google", med="cpc", id="utm-google-cpc"),
    case("Google", "Paid Search", src="adwords", med="ppc", id="utm-adwords-ppc"),
    case("Bing", "Paid Search", ids=("msclkid",), id="msclkid"),
    case("Bing", "Paid Search", src="bing", med="paid", id="utm-bing-paid"),
    case("Google", "Paid Search", ref="producthunt", ids=("gclid",), id="gclid-beats-ref"),
    case("Google", "Paid Search", ids=("fbclid", "gclid"), id="gclid-beats-fbclid"),
    # --- Organic Social
    case("X", "Organic Social", host="t.co", id="t.co"),
    case("X", "Organic Social", host="x.com", id="x.com"),
    case("X", "Organic Social", host="mobile.twitter.com", id="mobile.twitter.com"),
    case("X", "Organic Social", src="twitter", id="utm-twitter"),
    case("X", "Organic Social", src="X", med="social", id="utm-x-social"),
    case("Facebook", "Organic Social", host="l.facebook.com", ids=("fbclid",), id="fb-shim-fbclid"),
    case("Facebook", "Organic Social", host="m.facebook.com", id="m.facebook.com"),
    case("Facebook", "Organic Social", ids=("fbclid",), id="fbclid-alone-is-organic"),
    case("Facebook", "Organic Social", src="fb", id="utm-fb"),
    case("Instagram", "Organic Social", host="l.instagram.com", ids=("fbclid",), id="ig-fbclid"),
    case("LinkedIn", "Organic Social", host="lnkd.in", id="lnkd.in"),
    case("LinkedIn", "Organic Social", host="linkedin.com", id="linkedin"),
    case("Reddit", "Organic Social", host="old.reddit.com", id="old.reddit"),
    case("Reddit", "Organic Social", host="out.reddit.com", id="out.reddit"),
    case("Hacker News", "Organic Social", host="news.ycombinator.com", id="hn-referrer"),
    case("Hacker News", "Organic Social", ref="hn", id="via-hn"),
    case("Hacker News", "Organic Social", src="news.ycombinator.com", id="utm-hn-host"),
    case("Product Hunt", "Organic Social", ref="producthunt", id="ref-producthunt"),
    case("Product Hunt", "Organic Social", ref="Product Hunt", id="ref-product-hunt-spaced"),
    case("Product Hunt", "Organic Social", host="producthunt.com", id="producthunt-referrer"),
    case("Pinterest", "Organic Social", host="pinterest.de", id="pinterest-country"),
    case("Mastodon", "Organic Social", host="mastodon.social", id="mastodon"),
    case("Bluesky", "Organic Social", host="bsky.app", id="bluesky"),
    case("Threads", "Organic Social", host="l.threads.net", id="threads"),
    case("Lobsters", "Organic Social", host="lobste.rs", id="lobsters"),
    case("DEV Community", "Organic Social", host="dev.to", id="dev.to"),
    case("Medium", "Organic Social", host="someone.medium.com", id="medium-subdomain"),
    case("Indie Hackers", "Organic Social", host="indiehackers.com", id="indiehackers"),
    case("Telegram", "Organic Social", host="t.me", id="telegram"),
    case("WhatsApp", "Organic Social", host="web.whatsapp.com", id="whatsapp-web"),
    case("news-x", "Organic Social", src="news-x", med="social-media", id="medium-social-media"),
    # --- Paid Social
    case("Facebook", "Paid Social", src="facebook", med="paid_social", id="utm-fb-paid-social"),
    case("Facebook", "Paid Social", src="fb", med="cpc", id="utm-fb-cpc"),
    case("Facebook", "Paid Social", med="cpc", ids=("fbclid",), id="fbclid-with-paid-medium"),
    case("X", "Paid Social", ids=("twclid",), id="twclid"),
    case("LinkedIn", "Paid Social", ids=("li_fat_id",), id="li_fat_id"),
    case("Reddit", "Paid Social", ids=("rdt_cid",), id="rdt_cid"),
    case("Pinterest", "Paid Social", ids=("epik",), id="epik"),
    case("Facebook", "Paid Social", src="facebook", med="cpm", id="cpm-on-social-is-paid-social"),
    # --- Video
    case("YouTube", "Organic Video", host="youtube.com", id="youtube"),
    case("YouTube", "Organic Video", host="m.youtube.com", id="m.youtube"),
    case("YouTube", "Organic Video", host="youtu.be", id="youtu.be"),
    case("Vimeo", "Organic Video", host="vimeo.com", id="vimeo"),
    case("Twitch", "Organic Video", host="twitch.tv", id="twitch"),
    case("TikTok", "Organic Video", host="tiktok.com", id="tiktok"),
    case("acme", "Organic Video", src="acme", med="video", id="medium-video"),
    case("YouTube", "Paid Video", src="youtube", med="cpv", id="utm-youtube-cpv"),
    case("TikTok", "Paid Video", ids=("ttclid",), id="ttclid"),
    case("Google", "Paid Video", host="youtube.com", ids=("gclid",), id="gclid-from-youtube"),
    # --- Shopping
    case("Amazon", "Organic Shopping", host="amazon.com", id="amazon"),
    case("Amazon", "Organic Shopping", host="amazon.co.uk", id="amazon.co.uk"),
    case("eBay", "Organic Shopping", host="ebay.de", id="ebay.de"),
    case("Etsy", "Organic Shopping", host="etsy.com", id="etsy"),
    case("partner", "Organic Shopping", src="partner", camp="summer-shop", id="shop-camp-organic"),
    case("Amazon", "Paid Shopping", src="amazon", med="ppc", id="utm-amazon-ppc"),
    case("Google", "Paid Shopping", src="google", med="cpc", camp="pla_shopping", id="shopping"),
    case("Google", "Paid Shopping", src="google", med="cpc", camp="eshop-q3", id="eshop-camp"),
    case("Google", "Paid Search", src="google", med="cpc", camp="workshop", id="workshop-no-shop"),
    # --- Display
    case("adnet", "Display", src="adnet", med="banner", id="medium-banner"),
    case("adnet", "Display", src="adnet", med="display", id="medium-display"),
    case("adnet", "Display", src="adnet", med="cpm", id="medium-cpm"),
    case("Google", "Display", ids=("dclid",), id="dclid"),
    # --- Email
    case("newsletter", "Email", src="newsletter", med="email", id="utm-email"),
    case("Gmail", "Email", host="mail.google.com", id="gmail-referrer"),
    case("Outlook", "Email", host="outlook.live.com", id="outlook-referrer"),
    case("Yahoo Mail", "Email", host="mail.yahoo.com", id="yahoo-mail-referrer"),
    case("Proton Mail", "Email", host="mail.proton.me", id="proton-mail-referrer"),
    case("weekly", "Email", ref="weekly", host="mail.google.com", id="unknown-ref-from-webmail"),
    case("Email", "Email", src="Email", id="source-email"),
    # --- Referral
    case("example.org", "Referral", host="example.org", id="unknown-site"),
    case("example.org", "Referral", host="www.example.org", id="unknown-site-www"),
    case("docs.google.com", "Referral", host="docs.google.com", id="google-docs-is-not-search"),
    case("partnerblog", "Referral", src="partnerblog", med="referral", id="utm-medium-referral"),
    case("coolblog", "Referral", ref="coolblog", id="unknown-ref"),
    case("GitHub", "Referral", host="github.com", id="github-named-referral"),
    # --- AI Assistants
    case("ChatGPT", "AI Assistants", host="chatgpt.com", id="chatgpt"),
    case("ChatGPT", "AI Assistants", host="chat.openai.com", id="chat.openai"),
    case("ChatGPT", "AI Assistants", src="chatgpt.com", id="utm-chatgpt.com"),
    case("ChatGPT", "AI Assistants", src="chatgpt", med="referral", id="utm-chatgpt-referral"),
    case("Perplexity", "AI Assistants", host="perplexity.ai", id="perplexity"),
    case("Claude", "AI Assistants", host="claude.ai", id="claude"),
    case("Gemini", "AI Assistants", host="gemini.google.com", id="gemini"),
    case("Copilot", "AI Assistants", host="copilot.microsoft.com", id="copilot"),
    case("DeepSeek", "AI Assistants", host="chat.deepseek.com", id="deepseek"),
    case("Grok", "AI Assistants", host="grok.com", id="grok"),
    case("Mistral", "AI Assistants", host="chat.mistral.ai", id="mistral"),
    case("Meta AI", "AI Assistants", host="meta.ai", id="meta-ai"),
    # --- Cross-network, Paid Other
    case("Google", "Cross-network", src="google", med="cpc", camp="pmax-cross-network", id="xnet"),
    case("someadnet", "Paid Other", src="someadnet", med="cpc", id="cpc-unknown-source"),
    case("Gmail", "Paid Other", src="gmail", med="paid", id="paid-webmail-is-paid-other"),
    # --- Affiliates, Audio, SMS, Mobile Push
    case("partner", "Affiliates", src="partner", med="affiliate", id="affiliate"),
    case("spotify", "Audio", src="spotify", med="audio", id="audio"),
    case("twilio", "SMS", src="twilio", med="sms", id="sms-medium"),
    case("sms", "SMS", src="sms", id="sms-source"),
    case("app", "Mobile Push", src="app", med="web-push", id="push"),
    case("app", "Mobile Push", src="app", med="notification", id="notification"),
    case("firebase", "Mobile Push", src="firebase", med="x", id="firebase"),
    # --- verbatim sources, Unassigned
    case("My Partner", "Referral", src="  My Partner ", id="unknown-utm-source-verbatim"),
    case("newsletter-x", "Unassigned", src="newsletter-x", med="weird", id="unassigned"),
]


@pytest.mark.parametrize(("host", "src", "med", "camp", "ref", "ids", "source", "channel"), CASES)
def test_classify(host, src, med, camp, ref, ids, source, channel):
    got = classify(
        referrer_host=host,
        utm_source=src,
        utm_medium=med,
        utm_campaign=camp,
        ref=ref,
        click_ids=ids,
    )
    assert (got.source, got.channel) == (source, channel)


def test_table_covers_every_channel():
    produced = {p.values[-1] for p in CASES}
    assert set(CHANNELS) <= produced, set(CHANNELS) - produced
    assert produced <= set(CHANNELS), produced - set(CHANNELS)


def test_channels_are_the_ga4_set_plus_ai():
    assert len(CHANNELS) == len(set(CHANNELS)) == 20
    assert CHANNELS[0] == "Direct" and "AI Assistants" in CHANNELS and CHANNELS[-1] == "Unassigned"


_NOTHING = dict(
    referrer_host="", utm_source="", utm_medium="", utm_campaign="", ref="", click_ids=frozenset()
)


def test_acquisition_is_frozen():
    got = classify(**_NOTHING)
    assert got == Acquisition("", "Direct")
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.source = "x"  # type: ignore[misc]


def test_plain_set_of_click_ids_is_accepted():
    got = classify(**{**_NOTHING, "click_ids": {"gclid"}})  # a set, not a frozenset
    assert got == Acquisition("Google", "Paid Search")
