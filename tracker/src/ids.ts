// What the script keeps on the device, and consent to it. Visitor and session ids are UUIDs in
// first-party cookies, and the payment ids already sent are remembered in localStorage; none of
// it in cookieless mode, nor in consent mode (data-consent="required") until consent is given.
import { d, ds, L, ls, on } from './config'

export const V = '_pm_vid'
export const S = '_pm_sid'
const C = '_pm_consent' // consent mode: consent was given (set only then)

const read = (k: string) => d.cookie.match(k + '=([^;]+)')?.[1]
/** Sets cookie k; max-age 0 deletes it (with the same domain, or it would be another cookie). */
const write = (k: string, x: unknown, seconds: number) => {
  d.cookie =
    k + '=' + x + ';path=/;SameSite=Lax;max-age=' + seconds +
    (ds.domain ? ';domain=.' + ds.domain : '') +
    (L.protocol == 'https:' ? ';Secure' : '')
}

/** A random v4 UUID. A blob URL ends with one, made as crypto.randomUUID makes it (File API:
 *  "generate a random UUID"), and unlike crypto.randomUUID it exists on http: pages too. The
 *  empty blob stays registered until the page unloads: a few bytes, at most twice a page. */
const uuid = () => URL.createObjectURL(new Blob()).slice(-36)

/** Nothing on the device and no ids sent: the server then derives the visitor, as for a
 *  cookieless site. */
let off = 'cookieless' in ds || (ds.consent == 'required' && !read(C))

export let vid: string | undefined
export let sid: string | undefined
/** Where the payment ids already sent are remembered: localStorage; memory while `off`. */
export let store: any = (!off && ls) || {}

/** Before every event: take the ids (the given ones, the cookies', or new) and renew both
 *  cookies: _pm_vid for 365 days, _pm_sid for 30 minutes. */
export const ids = (v?: string | null, s?: string | null) => {
  if (!off) {
    write(V, (vid = v || read(V) || uuid()), 31536e3)
    write(S, (sid = s || read(S) || uuid()), 1800)
  }
}

/** postmetric('consent', true | false). Given (only by `true` itself, not by 'false' or 1): ids
 *  and cookies as usual from now on, and on the next pages (the _pm_consent cookie). Withdrawn
 *  (anything else): the ids are forgotten, and the script's cookies and localStorage entries
 *  (keys starting with _pm_) deleted; events go on, cookieless. A cookieless site stays
 *  cookieless either way. */
export const consent = (yes: unknown) => {
  off = 'cookieless' in ds || yes !== true
  store = (!off && ls) || {}
  write(C, 1, off ? 0 : 31536e3)
  if (off) {
    vid = sid = undefined // left out of the payload, as in cookieless mode
    write(V, '', 0)
    write(S, '', 0)
    for (const k in ls) k.indexOf('_pm_') || delete ls[k] // index 0: the key starts with _pm_
  } else on && ids()
}
