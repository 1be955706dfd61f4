// The script tag, its data-* attributes, and whether this browser may be tracked at all.
export const d = document
export const L = location
export const w = window as any
const n = navigator

export const script = d.currentScript as HTMLScriptElement
/** The attributes, each read where it is used: data-foo-bar="x" is ds.fooBar == "x"; a boolean
 *  attribute is on when present, whatever its value. */
export const ds = script.dataset
export const debug = 'debug' in ds
export const cookieless = 'cookieless' in ds

/** A capturing listener on window: it sees every click first, and document's visibilitychange. */
export const listen = (type: string, f: (e: any) => unknown) => addEventListener(type, f, true)

let ls: any
try {
  ls = localStorage // throws when storage is blocked
} catch {}

/** Where the payment ids already sent are remembered: localStorage; memory in cookieless mode. */
export const store = (!cookieless && ls) || {}

export const on = !(
  n.webdriver ||
  /HeadlessChrome|PhantomJS|Electron/.test(n.userAgent) ||
  w._phantom ||
  w.__nightmare ||
  w.callPhantom ||
  (/^(localhost|127.0.0.1|\[::1])$/.test(L.hostname) && !('allowLocalhost' in ds)) ||
  (L.protocol == 'file:' && !('allowFileProtocol' in ds)) ||
  (top != w && !debug) ||
  ls?.postmetric_ignore == 'true'
)
