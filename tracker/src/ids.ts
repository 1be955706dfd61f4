// Visitor and session ids: UUIDs in first-party cookies; none at all in cookieless mode.
import { cookieless, d, ds, L } from './config'

export const V = '_pm_vid'
export const S = '_pm_sid'

const read = (k: string) => d.cookie.match(k + '=([^;]+)')?.[1]
const write = (k: string, x: string, seconds: number) => {
  d.cookie =
    k + '=' + x + ';path=/;SameSite=Lax;max-age=' + seconds +
    (ds.domain ? ';domain=.' + ds.domain : '') +
    (L.protocol == 'https:' ? ';Secure' : '')
}

/** A random v4 UUID. A blob URL ends with one, made as crypto.randomUUID makes it (File API:
 *  "generate a random UUID"), and unlike crypto.randomUUID it exists on http: pages too. The
 *  empty blob stays registered until the page unloads: a few bytes, at most twice a page. */
const uuid = () => URL.createObjectURL(new Blob()).slice(-36)

export let vid: string | undefined
export let sid: string | undefined

/** Before every event: take the ids (the given ones, the cookies', or new) and renew both
 *  cookies: _pm_vid for 365 days, _pm_sid for 30 minutes. */
export const ids = (v?: string | null, s?: string | null) => {
  if (!cookieless) {
    write(V, (vid = v || read(V) || uuid()), 31536e3)
    write(S, (sid = s || read(S) || uuid()), 1800)
  }
}
