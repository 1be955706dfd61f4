// The payload and its delivery: a beacon, the JSON body as text/plain.
import { d, debug, ds, L, n, on, script } from './config'
import { ids, sid, vid } from './ids'

/** The page URL as sent: without `#hash` unless hash routing is on. */
export const href = () => L.href.replace('hashRouting' in ds ? '' : /#.*/, '')

/** The current page as of its pageview, and its referrer: document.referrer for the first page,
 *  the previous page's URL after an SPA navigation. */
export let cur: string // set by the first pageview, before any event is sent
let ref = d.referrer
let skip: boolean

export const turn = () => {
  if (cur) ref = cur
  cur = href()
  // data-exclude="/a, /b/*": `*` is any characters (also `/`), the whole pathname must match, as
  // on the server. Without the attribute the pattern is /^()$/, which no pathname matches.
  skip = RegExp(
    '^(' + (ds.exclude || '').replace(/\W/g, (c) => (c == ',' ? '|' : c == '*' ? '.*' : c == ' ' ? '' : '\\' + c)) + ')$',
  ).test(L.pathname)
}

export const send = (type: string, extra?: object) => {
  if (on && !skip) {
    ids()
    const p = {
      websiteId: ds.websiteId,
      type,
      href: cur,
      referrer: ref,
      title: d.title,
      visitorId: vid,
      sessionId: sid,
      viewport: { width: innerWidth, height: innerHeight },
      ...extra,
    }
    // A string body goes out as text/plain;charset=UTF-8: a simple request, no CORS preflight.
    // A beacon finishes after the page is gone (outbound clicks, engagement on leave); blocked
    // or offline, nothing happens, and nothing rejects. Shorter than fetch with keepalive, which
    // paid for consent mode in the size budget. Missing where a browser disables beacons.
    n.sendBeacon?.(ds.apiUrl || new URL('/api/events', script.src), JSON.stringify(p))
    debug && !('disableConsole' in ds) && console.log('postmetric', p)
  }
}
