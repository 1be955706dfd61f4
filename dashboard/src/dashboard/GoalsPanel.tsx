/** The Goals panel: each goal's unique converters, completions, conversion rate and revenue;
 * a click on a goal filters the dashboard to the visitors who completed it. */
import { Link } from "react-router";
import { Panel } from "./MetricsTable";
import { GOAL_TABS } from "./panels";
import { useSiteView } from "./SiteContext";

/** Why the panel is empty, and how goals get tracked. */
function HowToTrackGoals() {
  const { site, readOnly } = useSiteView();
  return (
    <div className="space-y-2 py-4 text-sm text-gray-600 dark:text-gray-400" data-testid="goals-empty">
      <p>No goal was completed in this range. Goals are actions you count: a sign-up, a download, a purchase.</p>
      <ul className="list-disc space-y-1 pl-5">
        <li>On a button or link: <code className="break-all rounded bg-gray-100 px-1 text-xs dark:bg-gray-800">data-postmetric-goal="signup"</code></li>
        <li>From your code: <code className="rounded bg-gray-100 px-1 text-xs dark:bg-gray-800">postmetric('signup')</code></li>
        <li>A visit of a page as a goal: {readOnly ? "defined in the site's settings" : (
          <Link className="text-indigo-600 underline dark:text-indigo-400" to={`/sites/${site.id}/settings/goals`}>Settings → Goals</Link>
        )}</li>
      </ul>
    </div>
  );
}

export function GoalsPanel() {
  return <Panel title="Goals" tabs={GOAL_TABS} empty={<HowToTrackGoals />} />;
}
