/** Why a panel, the chart or a card shows no money: the server's own message, never hidden.
 * Not an alert: the traffic beside it is fine. */
export function RevenueUnavailable({ error }: { error: Error }) {
  return (
    <p role="status" data-testid="revenue-unavailable"
      className="mt-2 rounded-md border border-amber-200 bg-amber-50 px-2 py-1 text-xs text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
      Revenue unavailable: {error.message}
    </p>
  );
}
