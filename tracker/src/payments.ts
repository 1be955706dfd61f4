// Payment success pages: one `payment` event per checkout id, remembered across reloads.
import { ds, L } from './config'
import { store } from './ids'
import { send } from './send'

const providers: any = { s: 'stripe', o: 'lemonsqueezy', c: 'polar' }

export const payments = () => {
  // Stripe: session_id=cs_…; Lemon Squeezy: order_id; Polar: checkout_id. The value as in the URL.
  const m = !('disablePayments' in ds) && L.search.match(/[?&](session_id=(?=cs_)|order_id=|checkout_id=)([^&]+)/)
  if (m && !store['_pm_pay:' + m[2]]) {
    try {
      store['_pm_pay:' + m[2]] = 1
    } catch {}
    send('payment', { props: { provider: providers[m[1][0]], checkout_id: m[2] } })
  }
}
