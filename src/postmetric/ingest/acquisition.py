"""Acquisition: turn a visit's referrer and campaign tags into a source name and a channel.

One module owns attribution so that live ingestion, backfills and the stats layer agree on what
"Google" or "Paid Social" means. Channels follow Google's GA4 default channel grouping, so numbers
line up with what users know from GA4, except that AI assistants get their own channel ("AI
Assistants") because that traffic matters to site owners and GA4 hides it under Referral.

The module is pure and dependency-free: it runs for every event, so it must stay cheap and
deterministic. The hostname map is curated here (MIT); GPL/AGPL lists such as Snowplow's
referers.yml or Plausible's csv are deliberately not used.

Choices a caller should know:
- Source precedence: ``utm_source`` -> paid ad click id -> ``ref``/``source``/``via`` -> referrer.
- ``fbclid`` alone stays Organic Social (Facebook also adds it to organic outbound links).
- Webmail referrers (mail.google.com, outlook.live.com, ...) are channel Email.
- A named source with no medium (``?ref=blog``, ``?utm_source=partner``, an unknown referrer) is
  Referral; GA4 would call the utm_source-only case Unassigned, which tells an owner nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CHANNELS", "Acquisition", "classify"]

CHANNELS: tuple[str, ...] = (
    "Direct",
    "Organic Search",
    "Paid Search",
    "Organic Social",
    "Paid Social",
    "Email",
    "Referral",
    "Display",
    "Affiliates",
    "Organic Video",
    "Paid Video",
    "Organic Shopping",
    "Paid Shopping",
    "AI Assistants",
    "Cross-network",
    "Paid Other",
    "Audio",
    "SMS",
    "Mobile Push",
    "Unassigned",
)


@dataclass(frozen=True, slots=True)
class Acquisition:
    source: str  # canonical source name, "" when Direct
    channel: str  # one of CHANNELS


# Source categories. "" marks a known site that is none of these (GitHub, Wikipedia, ...):
# it gets a nice name but stays Referral.
_SEARCH, _SOCIAL, _VIDEO, _SHOPPING, _EMAIL, _AI, _NAMED = (
    "search",
    "social",
    "video",
    "shopping",
    "email",
    "ai",
    "",
)

# (canonical name, category, hostnames, extra aliases for utm_source/ref values).
# Subdomains of a listed host match too (old.reddit.com -> reddit.com), so list registrable
# domains and only the subdomains that differ from their parent (mail.google.com,
# chat.deepseek.com).
_SOURCES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # --- AI assistants
    ("ChatGPT", _AI, ("chatgpt.com", "chat.openai.com", "com.openai.chatgpt"), ("openai",)),
    ("Perplexity", _AI, ("perplexity.ai", "pplx.ai"), ("pplx",)),
    ("Claude", _AI, ("claude.ai", "claude.com"), ()),
    ("Gemini", _AI, ("gemini.google.com", "bard.google.com"), ("bard", "googlegemini")),
    (
        "Copilot",
        _AI,
        ("copilot.microsoft.com", "copilot.cloud.microsoft"),
        ("microsoftcopilot", "bingchat"),
    ),
    ("DeepSeek", _AI, ("deepseek.com", "chat.deepseek.com"), ()),
    ("Meta AI", _AI, ("meta.ai",), ()),
    ("Grok", _AI, ("grok.com",), ()),
    ("Mistral", _AI, ("chat.mistral.ai",), ("lechat",)),
    ("You.com", _AI, ("you.com",), ()),
    ("Phind", _AI, ("phind.com",), ()),
    ("Poe", _AI, ("poe.com",), ()),
    ("Character.AI", _AI, ("character.ai",), ("characterai",)),
    ("Pi", _AI, ("pi.ai",), ()),
    ("Qwen", _AI, ("chat.qwen.ai",), ()),
    ("Kimi", _AI, ("kimi.com", "kimi.moonshot.cn"), ()),
    ("Doubao", _AI, ("doubao.com",), ()),
    ("NotebookLM", _AI, ("notebooklm.google.com",), ()),
    ("Google AI Studio", _AI, ("aistudio.google.com",), ()),
    ("Duck.ai", _AI, ("duck.ai",), ()),
    ("Genspark", _AI, ("genspark.ai",), ()),
    # --- search (Google, Yahoo, Yandex also via _BRANDS for their country domains)
    (
        "Google",
        _SEARCH,
        ("com.google.android.googlequicksearchbox",),
        ("googleads", "adwords", "googleadwords", "gads"),
    ),
    ("Bing", _SEARCH, ("bing.com",), ("bingads", "microsoftads", "msads")),
    ("DuckDuckGo", _SEARCH, ("duckduckgo.com",), ("ddg",)),
    ("Yahoo", _SEARCH, (), ()),
    ("Yandex", _SEARCH, ("ya.ru",), ("yandexdirect",)),
    ("Baidu", _SEARCH, ("baidu.com",), ()),
    ("Ecosia", _SEARCH, ("ecosia.org",), ()),
    ("Brave Search", _SEARCH, ("search.brave.com",), ("brave",)),
    ("Startpage", _SEARCH, ("startpage.com", "startpage.nl"), ()),
    ("Qwant", _SEARCH, ("qwant.com",), ()),
    ("Naver", _SEARCH, ("naver.com",), ()),
    ("Seznam", _SEARCH, ("seznam.cz",), ()),
    ("Kagi", _SEARCH, ("kagi.com",), ()),
    ("AOL", _SEARCH, ("aol.com",), ()),
    ("Ask.com", _SEARCH, ("ask.com",), ()),
    ("Sogou", _SEARCH, ("sogou.com",), ()),
    ("360 Search", _SEARCH, ("so.com",), ()),
    ("Daum", _SEARCH, ("daum.net",), ()),
    ("Mojeek", _SEARCH, ("mojeek.com",), ()),
    ("Swisscows", _SEARCH, ("swisscows.com",), ()),
    ("MetaGer", _SEARCH, ("metager.org", "metager.de"), ()),
    ("Presearch", _SEARCH, ("presearch.com",), ()),
    ("Petal Search", _SEARCH, ("petalsearch.com",), ()),
    ("Coc Coc", _SEARCH, ("coccoc.com",), ()),
    ("Yep", _SEARCH, ("yep.com",), ()),
    ("Lilo", _SEARCH, ("search.lilo.org",), ()),
    ("Dogpile", _SEARCH, ("dogpile.com",), ()),
    ("MSN", _SEARCH, ("msn.com",), ()),
    # --- social
    (
        "Facebook",
        _SOCIAL,
        ("facebook.com", "fb.com", "fb.me", "com.facebook.katana"),
        ("fb", "facebookads", "fbads"),
    ),
    ("Messenger", _SOCIAL, ("messenger.com",), ()),
    ("Instagram", _SOCIAL, ("instagram.com", "com.instagram.android"), ("ig", "insta")),
    (
        "X",
        _SOCIAL,
        ("x.com", "twitter.com", "t.co", "com.twitter.android"),
        ("twitter", "tw", "xcom"),
    ),
    (
        "LinkedIn",
        _SOCIAL,
        ("linkedin.com", "lnkd.in", "com.linkedin.android"),
        ("li", "lnkd", "linkedinads"),
    ),
    ("Reddit", _SOCIAL, ("reddit.com", "redd.it", "com.reddit.frontpage"), ()),
    ("Hacker News", _SOCIAL, ("news.ycombinator.com", "hn.algolia.com"), ("hn", "ycombinator")),
    ("Product Hunt", _SOCIAL, ("producthunt.com",), ("ph",)),
    ("Pinterest", _SOCIAL, ("pin.it",), ()),
    (
        "Mastodon",
        _SOCIAL,
        (
            "mastodon.social",
            "mastodon.online",
            "mastodon.world",
            "mastodon.cloud",
            "mastodon.art",
            "mstdn.social",
            "mstdn.jp",
            "mas.to",
            "fosstodon.org",
            "hachyderm.io",
            "infosec.exchange",
            "ioc.exchange",
            "techhub.social",
            "chaos.social",
            "universeodon.com",
            "pawoo.net",
        ),
        (),
    ),
    ("Bluesky", _SOCIAL, ("bsky.app", "bsky.social"), ("bsky",)),
    ("Threads", _SOCIAL, ("threads.net", "threads.com"), ()),
    ("Tumblr", _SOCIAL, ("tumblr.com",), ()),
    ("Quora", _SOCIAL, ("quora.com",), ()),
    ("Discord", _SOCIAL, ("discord.com", "discordapp.com", "discord.gg"), ()),
    (
        "Telegram",
        _SOCIAL,
        ("t.me", "telegram.org", "telegram.me", "org.telegram.messenger"),
        ("tg",),
    ),
    ("WhatsApp", _SOCIAL, ("whatsapp.com", "wa.me", "com.whatsapp"), ("wa",)),
    ("VK", _SOCIAL, ("vk.com", "vk.ru"), ("vkontakte",)),
    ("Odnoklassniki", _SOCIAL, ("ok.ru",), ()),
    ("Weibo", _SOCIAL, ("weibo.com", "weibo.cn", "t.cn"), ()),
    ("Lobsters", _SOCIAL, ("lobste.rs",), ()),
    ("DEV Community", _SOCIAL, ("dev.to",), ("devto",)),
    ("Medium", _SOCIAL, ("medium.com",), ()),
    ("Indie Hackers", _SOCIAL, ("indiehackers.com",), ("ih",)),
    ("Snapchat", _SOCIAL, ("snapchat.com",), ("snap",)),
    ("Slack", _SOCIAL, ("slack.com", "com.slack"), ()),
    ("Microsoft Teams", _SOCIAL, ("teams.microsoft.com", "teams.live.com"), ()),
    ("LINE", _SOCIAL, ("line.me",), ()),
    ("Xing", _SOCIAL, ("xing.com",), ()),
    ("Nextdoor", _SOCIAL, ("nextdoor.com",), ()),
    ("Flipboard", _SOCIAL, ("flipboard.com",), ()),
    ("Tildes", _SOCIAL, ("tildes.net",), ()),
    ("Lemmy", _SOCIAL, ("lemmy.world", "lemmy.ml"), ()),
    ("Slashdot", _SOCIAL, ("slashdot.org",), ()),
    ("Digg", _SOCIAL, ("digg.com",), ()),
    ("Zhihu", _SOCIAL, ("zhihu.com",), ()),
    ("Douban", _SOCIAL, ("douban.com",), ()),
    ("Xiaohongshu", _SOCIAL, ("xiaohongshu.com",), ("rednote",)),
    ("WeChat", _SOCIAL, ("weixin.qq.com",), ("weixin",)),
    ("Flickr", _SOCIAL, ("flickr.com",), ()),
    ("DeviantArt", _SOCIAL, ("deviantart.com",), ()),
    ("Behance", _SOCIAL, ("behance.net",), ()),
    ("Dribbble", _SOCIAL, ("dribbble.com",), ()),
    ("Goodreads", _SOCIAL, ("goodreads.com",), ()),
    # --- video
    (
        "YouTube",
        _VIDEO,
        ("youtube.com", "youtu.be", "youtube-nocookie.com", "com.google.android.youtube"),
        ("yt",),
    ),
    ("Vimeo", _VIDEO, ("vimeo.com",), ()),
    ("Twitch", _VIDEO, ("twitch.tv",), ()),
    ("TikTok", _VIDEO, ("tiktok.com", "com.zhiliaoapp.musically"), ("tt",)),
    ("Dailymotion", _VIDEO, ("dailymotion.com", "dai.ly"), ()),
    ("Bilibili", _VIDEO, ("bilibili.com", "b23.tv"), ()),
    ("Rumble", _VIDEO, ("rumble.com",), ()),
    ("Odysee", _VIDEO, ("odysee.com",), ()),
    ("Kick", _VIDEO, ("kick.com",), ()),
    # --- shopping (Amazon, eBay, ... also via _BRANDS)
    ("Amazon", _SHOPPING, ("amzn.to", "amzn.eu", "a.co"), ("amzn",)),
    ("eBay", _SHOPPING, (), ()),
    ("Etsy", _SHOPPING, ("etsy.com", "etsy.me"), ()),
    ("Shopify", _SHOPPING, ("shopify.com", "shop.app"), ()),
    ("Walmart", _SHOPPING, ("walmart.com", "walmart.ca"), ()),
    ("AliExpress", _SHOPPING, (), ()),
    ("Alibaba", _SHOPPING, ("alibaba.com",), ()),
    ("Google Shopping", _SHOPPING, ("shopping.google.com",), ()),
    ("Target", _SHOPPING, ("target.com",), ()),
    ("Best Buy", _SHOPPING, ("bestbuy.com",), ()),
    ("Mercado Libre", _SHOPPING, (), ("mercadolivre",)),
    ("Rakuten", _SHOPPING, (), ()),
    ("Temu", _SHOPPING, ("temu.com",), ()),
    ("Shein", _SHOPPING, ("shein.com",), ()),
    ("Zalando", _SHOPPING, (), ()),
    ("Otto", _SHOPPING, ("otto.de",), ()),
    ("Idealo", _SHOPPING, (), ()),
    ("Wayfair", _SHOPPING, ("wayfair.com",), ()),
    ("Flipkart", _SHOPPING, ("flipkart.com",), ()),
    ("Allegro", _SHOPPING, ("allegro.pl",), ()),
    ("Bol", _SHOPPING, ("bol.com",), ()),
    ("Taobao", _SHOPPING, ("taobao.com",), ()),
    ("Tmall", _SHOPPING, ("tmall.com",), ()),
    ("JD.com", _SHOPPING, ("jd.com",), ()),
    # --- webmail: a click from an inbox is email traffic even without utm tags
    ("Gmail", _EMAIL, ("mail.google.com", "inbox.google.com", "com.google.android.gm"), ()),
    (
        "Outlook",
        _EMAIL,
        (
            "outlook.live.com",
            "outlook.office.com",
            "outlook.office365.com",
            "outlook.com",
            "com.microsoft.office.outlook",
        ),
        ("hotmail",),
    ),
    ("Yahoo Mail", _EMAIL, ("mail.yahoo.com", "mail.yahoo.co.jp"), ()),
    ("Proton Mail", _EMAIL, ("mail.proton.me", "mail.protonmail.com"), ("protonmail",)),
    ("AOL Mail", _EMAIL, ("mail.aol.com",), ()),
    ("Yandex Mail", _EMAIL, ("mail.yandex.ru", "mail.yandex.com"), ()),
    ("Zoho Mail", _EMAIL, ("mail.zoho.com", "mail.zoho.eu"), ()),
    ("Fastmail", _EMAIL, ("fastmail.com",), ()),
    ("iCloud Mail", _EMAIL, ("icloud.com",), ()),
    ("GMX", _EMAIL, ("gmx.net", "gmx.de", "gmx.com", "deref-gmx.net", "deref-gmx.com"), ()),
    ("WEB.DE", _EMAIL, ("web.de", "deref-web.de", "deref-web-02.de"), ()),
    ("Mail.ru", _EMAIL, ("mail.ru",), ()),
    ("T-Online Mail", _EMAIL, ("email.t-online.de",), ()),
    ("Tuta", _EMAIL, ("app.tuta.com", "mail.tutanota.com"), ("tutanota",)),
    ("HEY Mail", _EMAIL, ("app.hey.com",), ()),
    ("Mail.com", _EMAIL, ("mail.com",), ()),
    ("Seznam Email", _EMAIL, ("email.seznam.cz",), ()),
    ("Naver Mail", _EMAIL, ("mail.naver.com",), ()),
    ("QQ Mail", _EMAIL, ("mail.qq.com",), ()),
    ("163 Mail", _EMAIL, ("mail.163.com",), ()),
    # --- well-known sites that are none of the above: named, but Referral
    ("GitHub", _NAMED, ("github.com",), ("gh",)),
    ("GitLab", _NAMED, ("gitlab.com",), ()),
    ("Stack Overflow", _NAMED, ("stackoverflow.com",), ()),
    ("Stack Exchange", _NAMED, ("stackexchange.com",), ()),
    ("Wikipedia", _NAMED, ("wikipedia.org",), ("wiki",)),
    ("Google News", _NAMED, ("news.google.com",), ()),
    ("Substack", _NAMED, ("substack.com",), ()),
    ("Feedly", _NAMED, ("feedly.com",), ()),
)

# Brands registered under many country domains: google.de, amazon.co.uk, yandex.com.tr, ...
# brand -> (canonical name, whether its subdomains are the same source).
_BRANDS: dict[str, tuple[str, bool]] = {
    # Google's other subdomains (docs., sites., translate., ...) are products, not search; the
    # ones that are sources (mail., gemini., news., shopping.) are listed explicitly above.
    "google": ("Google", False),
    "yahoo": ("Yahoo", True),
    "yandex": ("Yandex", True),
    "amazon": ("Amazon", True),
    "ebay": ("eBay", True),
    "aliexpress": ("AliExpress", True),
    "mercadolibre": ("Mercado Libre", True),
    "mercadolivre": ("Mercado Libre", True),
    "rakuten": ("Rakuten", True),
    "zalando": ("Zalando", True),
    "idealo": ("Idealo", True),
    "pinterest": ("Pinterest", True),
}
_BRAND_RE = re.compile(r"^(%s)\.(?:com|(?:com?\.)?[a-z]{2})$" % "|".join(_BRANDS))

# Leading labels that name a variant of the same site (mobile, link shim, amp), not another source.
_REDUNDANT_PREFIXES = frozenset(
    {"www", "www2", "m", "mobile", "l", "lm", "amp", "touch", "mbasic", "web"}
)

# Characters ignored when matching raw utm_source/ref values: "Product Hunt", "product_hunt",
# "product-hunt" are all "producthunt".
_ALIAS_NOISE = str.maketrans("", "", " \t_-")


def _build() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    by_name: dict[str, tuple[str, str]] = {}
    hosts: dict[str, tuple[str, str]] = {}
    aliases: dict[str, tuple[str, str]] = {}

    def put(table: dict[str, tuple[str, str]], key: str, entry: tuple[str, str]) -> None:
        # Fail at import, not silently at runtime, if two sources claim the same key.
        if table.setdefault(key, entry) != entry:
            raise ValueError(f"acquisition: {key!r} maps to both {table[key]} and {entry}")

    for name, category, host_list, alias_list in _SOURCES:
        entry = (name, category)
        by_name[name] = entry
        for host in host_list:
            put(hosts, host, entry)
        for alias in (name, *alias_list):
            put(aliases, alias.lower().translate(_ALIAS_NOISE), entry)
    for brand, (name, _subdomains) in _BRANDS.items():
        put(aliases, brand, by_name[name])
    return hosts, aliases


_HOSTS, _ALIASES = _build()
_BRAND_ENTRIES = {
    brand: ((name, _ALIASES[brand][1]), subdomains) for brand, (name, subdomains) in _BRANDS.items()
}

# Ad click ids -> (source, category, implied medium). An empty medium means the id does not prove
# a paid click: Facebook appends fbclid to *organic* outbound links as well, so fbclid alone
# stays Organic Social and only names the source when nothing better is known.
# Dict order is the priority when several ids are present.
_CLICK_IDS: dict[str, tuple[str, str, str]] = {
    "gclid": ("Google", _SEARCH, "cpc"),
    "gbraid": ("Google", _SEARCH, "cpc"),
    "wbraid": ("Google", _SEARCH, "cpc"),
    "dclid": ("Google", _SEARCH, "display"),  # Campaign Manager / DV360: display buys
    "msclkid": ("Bing", _SEARCH, "cpc"),
    "yclid": ("Yandex", _SEARCH, "cpc"),
    "ttclid": ("TikTok", _VIDEO, "cpc"),
    "twclid": ("X", _SOCIAL, "cpc"),
    "li_fat_id": ("LinkedIn", _SOCIAL, "cpc"),
    "epik": ("Pinterest", _SOCIAL, "cpc"),
    "rdt_cid": ("Reddit", _SOCIAL, "cpc"),
    "sccid": ("Snapchat", _SOCIAL, "cpc"),
    "qclid": ("Quora", _SOCIAL, "cpc"),
    "fbclid": ("Facebook", _SOCIAL, ""),
}
_CLICK_RANK = {name: rank for rank, name in enumerate(_CLICK_IDS)}

# GA4 default channel group definitions, verbatim (support.google.com/analytics/answer/9756891).
_PAID_RE = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_SHOP_CAMPAIGN_RE = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_DISPLAY_MEDIUMS = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIUMS = frozenset(
    {"social", "social-network", "social-media", "sm", "social network", "social media"}
    | {"social_network", "social_media", "organic-social", "organic_social"}  # common spellings
)
_REFERRAL_MEDIUMS = frozenset({"referral", "app", "link"})
# GA4's spellings plus "newsletter", the most common hand-written email medium.
_EMAIL_VALUES = frozenset({"email", "e-mail", "e_mail", "e mail", "newsletter"})
_AFFILIATE_MEDIUMS = frozenset({"affiliate", "affiliates"})
_NO_MEDIUM = frozenset({"(none)", "(not set)", "none"})
_URL_PATH_RE = re.compile(r"[/?#]")


def _strip_prefixes(host: str) -> str:
    head, dot, rest = host.partition(".")
    while dot and head in _REDUNDANT_PREFIXES and "." in rest:
        host = rest
        head, dot, rest = host.partition(".")
    return host


@lru_cache(maxsize=4096)
def _resolve_host(host: str) -> tuple[str, str] | None:
    """(canonical name, category) for a lower-case hostname, or None if unknown."""
    entry = _HOSTS.get(host)
    if entry is not None:
        return entry
    host = _strip_prefixes(host)
    entry = _HOSTS.get(host)
    if entry is not None:
        return entry
    match = _BRAND_RE.match(host)
    if match is not None:
        return _BRAND_ENTRIES[match.group(1)][0]
    # Walk up the parents: old.reddit.com -> reddit.com, de.search.yahoo.com -> yahoo.com.
    dot = host.find(".")
    while dot != -1:
        parent = host[dot + 1 :]
        if "." not in parent:
            break
        entry = _HOSTS.get(parent)
        if entry is not None:
            return entry
        match = _BRAND_RE.match(parent)
        if match is not None:
            brand_entry, subdomains = _BRAND_ENTRIES[match.group(1)]
            return brand_entry if subdomains else None
        dot = host.find(".", dot + 1)
    return None


def _clean_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if ":" in host and not host.startswith("["):  # drop a port; leave IPv6 literals alone
        host = host.partition(":")[0]
    return host


def _resolve_raw(raw: str) -> tuple[str, str]:
    """(name, category) for a trimmed utm_source/ref value; unknown values keep their spelling."""
    low = raw.lower()
    entry = _ALIASES.get(low.translate(_ALIAS_NOISE))
    if entry is not None:
        return entry
    if "://" in low:  # a full URL: use its host, it is a better name than the URL
        host = _clean_host(_URL_PATH_RE.split(low.partition("://")[2], maxsplit=1)[0])
        entry = _resolve_host(host) if host else None
        return entry if entry is not None else (_strip_www(host) or raw, _NAMED)
    if "." in low and " " not in low:
        entry = _resolve_host(_clean_host(low))
        if entry is not None:
            return entry
    return raw, _NAMED


def _strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


@lru_cache(maxsize=4096)
def _classify(
    referrer_host: str,
    utm_source: str,
    utm_medium: str,
    utm_campaign: str,
    ref: str,
    click_ids: frozenset[str],
) -> Acquisition:
    medium = utm_medium.strip().lower()
    if medium in _NO_MEDIUM:
        medium = ""
    campaign = utm_campaign.strip().lower()
    host = _clean_host(referrer_host) if referrer_host else ""
    host_entry = _resolve_host(host) if host else None

    click: tuple[str, str, str] | None = None
    if click_ids:
        best = len(_CLICK_RANK)
        for name in click_ids:
            rank = _CLICK_RANK.get(name, _CLICK_RANK.get(name.lower(), best))
            if rank < best:
                best, click = rank, _CLICK_IDS[name.lower()]
    paid_click = click is not None and click[2] != ""

    source, category = "", _NAMED
    utm_source = utm_source.strip()
    ref = ref.strip()
    if utm_source and utm_source != "(direct)":
        source, category = _resolve_raw(utm_source)
        if not category and paid_click:
            category = click[1]  # type: ignore[index]
    elif paid_click:
        source, category = click[0], click[1]  # type: ignore[index]
        # Google Ads also serves YouTube and Shopping; the referrer tells which network was clicked.
        if source == "Google" and host_entry is not None and host_entry[1] in (_VIDEO, _SHOPPING):
            category = host_entry[1]
    elif ref:
        source, category = _resolve_raw(ref)
    elif host:
        source, category = host_entry if host_entry is not None else (_strip_www(host), _NAMED)
    elif click is not None:
        source, category = click[0], click[1]
    if not medium:
        if paid_click:
            medium = click[2]  # type: ignore[index]
        elif not category and host_entry is not None:
            # ?ref=my-newsletter arriving from mail.google.com is still email traffic.
            category = host_entry[1]

    return Acquisition(source, _channel(source, category, medium, campaign))


def _channel(source: str, category: str, medium: str, campaign: str) -> str:
    """GA4 default channel grouping: rules in Google's order, first match wins."""
    if not source and not medium:
        return "Direct"
    if "cross-network" in campaign:
        return "Cross-network"
    paid = medium != "" and _PAID_RE.match(medium) is not None
    if category == _AI and not paid:  # our addition, ahead of search/social
        return "AI Assistants"
    shop_campaign = campaign != "" and _SHOP_CAMPAIGN_RE.match(campaign) is not None
    if paid:
        if category == _SHOPPING or shop_campaign:
            return "Paid Shopping"
        if category == _SEARCH:
            return "Paid Search"
        if category == _SOCIAL:
            return "Paid Social"
        if category == _VIDEO:
            return "Paid Video"
    if medium in _DISPLAY_MEDIUMS:
        return "Display"
    if paid:
        return "Paid Other"
    if category == _SHOPPING or shop_campaign:
        return "Organic Shopping"
    if category == _SOCIAL or medium in _SOCIAL_MEDIUMS:
        return "Organic Social"
    if category == _VIDEO or "video" in medium:
        return "Organic Video"
    if category == _SEARCH or medium == "organic":
        return "Organic Search"
    if medium in _REFERRAL_MEDIUMS:
        return "Referral"
    src = source.lower()
    if category == _EMAIL or medium in _EMAIL_VALUES or src in _EMAIL_VALUES:
        return "Email"
    if medium in _AFFILIATE_MEDIUMS:
        return "Affiliates"
    if medium == "audio":
        return "Audio"
    if medium == "sms" or src == "sms":
        return "SMS"
    if (
        medium.endswith("push")
        or "mobile" in medium
        or "notification" in medium
        or src == "firebase"
    ):
        return "Mobile Push"
    if not medium:  # a named source (referrer, ref=, bare utm_source) without a medium
        return "Referral"
    return "Unassigned"


def classify(
    *,
    referrer_host: str,
    utm_source: str,
    utm_medium: str,
    utm_campaign: str,
    ref: str,
    click_ids: frozenset[str],
) -> Acquisition:
    """Source and channel of one visit. Cached: the same inputs recur constantly."""
    if type(click_ids) is not frozenset:  # a set would be unhashable for the cache
        click_ids = frozenset(click_ids)
    return _classify(referrer_host, utm_source, utm_medium, utm_campaign, ref, click_ids)
