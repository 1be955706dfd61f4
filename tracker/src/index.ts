// init: the public API, the queue replay, and the wiring of the automatic features.
import { listen, on, w } from './config'
import { next, update } from './engagement'
import { clickGoal, scan } from './goals'
import { consent, sid, vid } from './ids'
import { arrive, link } from './links'
import { payments } from './payments'
import { send } from './send'
import { spa } from './spa'

const queue = w.postmetric?.q

/** postmetric(name, props) sends a goal; postmetric('identify' | 'payment', props) those types
 *  (the server ignores `name` for them); postmetric('consent', true | false) gives or withdraws
 *  consent to cookies. */
const pm = (w.postmetric = (name: string, props?: any) =>
  name == 'consent' ? consent(props) : send(/^(identify|payment)$/.test(name) ? name : 'goal', { name, props })) as any
pm.getVisitorId = () => vid || null
pm.getSessionId = () => sid || null

// Consent queued before the script loaded counts from the first pageview on; the other calls
// are replayed after it (consent again too, which changes nothing).
queue?.forEach((a: any) => a[0] == 'consent' && pm(...a))

arrive()

const pageview = () => {
  next()
  send('pageview')
  payments()
  scan()
}

if (on) {
  spa(pageview)
  for (const e of ['scroll', 'focus', 'blur', 'visibilitychange']) listen(e, update)
  listen('scroll', scan)
  const click = (e: MouseEvent) => {
    // also the middle button (auxclick), not the right one
    if (e.button < 2) {
      clickGoal(e.target as Element)
      link(e.target as Element)
    }
  }
  listen('click', click)
  listen('auxclick', click)
  pageview()
}

queue?.forEach((a: any) => pm(...a))
