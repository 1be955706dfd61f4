// Goals from markup: clicks inside [data-postmetric-goal], visibility of [data-postmetric-scroll].
import { d } from './config'
import { send } from './send'

const G = 'data-postmetric-goal'
const SC = 'data-postmetric-scroll'

/** data-postmetric-goal="name"; data-postmetric-goal-plan-name="pro" → props {plan_name: "pro"}. */
export const clickGoal = (t: Element) => {
  const g = t.closest('[' + G + ']')
  if (g) {
    const props: any = {}
    for (let { name, value } of g.attributes)
      if ((name = name.split(G + '-')[1])) props[name.replace(/-/g, '_')] = value
    send('goal', { name: g.getAttribute(G), props })
  }
}

/** Observe every visibility-goal element not observed yet: on each pageview and on scroll, which
 *  is how elements rendered later (SPA pages, lazy content) come into view. An element fires
 *  once per page load, after being visible at its threshold for its delay. el._pm is its
 *  observer, so it is observed once. */
export const scan = () =>
  d.querySelectorAll('[' + SC + ']').forEach((el: any) => {
    const at = (s: string) => el.getAttribute(SC + s)
    const threshold = +(at('-threshold') || 0.5) // 0–1; anything else makes IntersectionObserver throw
    let timer: any
    el._pm ||
      (el._pm = new IntersectionObserver(
        (entries) => {
          const x = entries.pop()!
          clearTimeout(timer)
          if (x.isIntersecting && x.intersectionRatio >= threshold)
            timer = setTimeout(() => {
              el._pm.disconnect()
              send('goal', { name: at('') })
            }, at('-delay')) // a string or null: setTimeout takes it as a number, NaN as 0
        },
        { threshold },
      )).observe(el)
  })
