// The script tag, its data-* attributes, and whether this browser may be tracked at all.
export const d = document
export const L = location
export const w = window as any
export const n = navigator

export const script = d.currentScript as HTMLScriptElement
/** The attributes, each read where it is used: data-foo-bar="x" is ds.fooBar == "x"; a boolean
 *  attribute is on when present, whatever its value. */
export const ds = script.dataset
export const debug = 'debug' in ds

/** A capturing listener on window: it sees every click first, and document's visibilitychange. */
export const listen = (type: string, f: (e: any) => unknown) => addEventListener(type, f, true)

export let ls: any
try {
  ls = localStorage // throws when storage is blocked
} catch {}

/** Tracked at all. Only what the server cannot see is checked here: user agents of headless
 *  browsers and automation tools are dropped by the server's bot filter. file: pages are never
 *  tracked, as the server refuses them. */
export const on = !(
  n.webdriver ||
  (/^(localhost|127.0.0.1|\[::1])$/.test(L.hostname) && !('allowLocalhost' in ds)) ||
  L.protocol == 'file:' ||
  (top != w && !debug) ||
  ls?.postmetric_ignore == 'true'
)
