// Engagement: max scroll depth and engaged (visible and focused) time, sent once per page.
import { d } from './config'
import { send, turn } from './send'

// Set by `next` at each pageview, before they count: nothing calls `update` before the first.
let ms: number // engaged time banked
let since: number // start of the current engaged stretch; 0 when not engaged
let depth: number
let done = 1 // no page yet

/** Listens to scroll, focus, blur and visibilitychange: banks engaged time, measures the scroll
 *  depth, and sends the engagement when the page is hidden (browsers hide a page before leaving
 *  it) or, from `next`, left. */
export const update = (e?: Event) => {
  const now = Date.now()
  if (since) ms += now - since
  since = !d.hidden && d.hasFocus() ? now : 0
  depth = Math.max(depth, Math.min(100, ((scrollY + innerHeight) * 100) / d.documentElement.scrollHeight | 0))
  if (e && (d.hidden || !e.type) && !done) {
    done = 1
    send('engagement', { scrollDepth: depth, engagedMs: ms })
  }
}

/** A new page: send the engagement of the one being left (if not sent yet), then start over. */
export const next = () => {
  update({} as Event) // no type: as if the page were left
  turn()
  done = ms = since = depth = 0
  update()
}
