// Outbound link clicks, and cross-domain linking (the ids ride along to allowed hostnames).
import { ds, L, on } from './config'
import { ids, S, sid, V, vid } from './ids'
import { send } from './send'

/** A click inside <a href> to another host. */
export const link = (t: Element) => {
  const a = t.closest('a[href]') as HTMLAnchorElement | null
  const h = a?.hostname // '' for mailto:, tel:, javascript:; undefined for SVG links
  if (h && h != L.hostname) {
    send('outbound', { props: { url: a!.href.slice(0, 255) } })
    // data-allowed-hostnames="a.com, www.b.com": exactly those hosts.
    if ((ds.allowedHostnames || '').split(/\s*,\s*/).includes(h) && vid) {
      const u = new URL(a!.href)
      u.searchParams.set(V, vid)
      u.searchParams.set(S, sid!)
      a!.href = u.href
    }
  }
}

/** On arrival: adopt _pm_vid/_pm_sid from the URL as the cookies, then strip them from the URL,
 *  before the first pageview. Without them it just reads (or makes) the ids, so the getters have
 *  them from the start. The values are not checked (no room in the size budget): a hand-made
 *  link with a malformed id makes the server refuse that visitor's events until the cookie goes. */
export const arrive = () => {
  const u = new URL(L.href)
  const q = u.searchParams
  on && ids(q.get(V), q.get(S))
  if (q.has(V)) {
    q.delete(V)
    q.delete(S)
    history.replaceState(history.state, '', u)
  }
}
