// SPA navigation: pushState, popstate, hashchange when the URL changes; replaceState when the path does.
import { listen } from './config'
import { cur, href } from './send'

/** The URL without its query: the "path" (plus `#hash` with hash routing). */
const path = (h: string) => h.replace(/\?[^#]*/, '')

export const spa = (pageview: () => void) => {
  const nav = (replace?: any) => {
    const h = href()
    if (replace == 1 ? path(h) != path(cur) : h != cur) pageview() // 1: from replaceState, not an Event
  }
  const hist = history as any
  for (const m of ['pushState', 'replaceState']) {
    const orig = hist[m]
    hist[m] = (...a: unknown[]) => {
      orig.apply(hist, a)
      nav(m[0] == 'r')
    }
  }
  // Without hash routing href() has no hash, so a hash change is no new page.
  listen('popstate', nav)
  listen('hashchange', nav)
}
