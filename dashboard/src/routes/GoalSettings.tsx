/**
 * Settings → Goals: the site's goal definitions (`/api/v1/sites/{id}/goals`). An event goal counts
 * a custom event by name; a page goal counts visits of pages matching a path pattern. Each has a
 * display name, the one thing editable afterwards. Viewers read the list (the page disables the form).
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Input, Spinner } from "../components/ui";
import { goalsKey, useGoalsQuery } from "../hooks/queries";
import { api, type Goal, type Site } from "../lib/api";

export interface GoalForm { kind: "event" | "page"; target: string; displayName: string }

/** The body of `POST /api/v1/sites/{id}/goals`, or what is wrong with the form. */
export function goalBody(form: GoalForm): { body: Record<string, string> } | { error: string } {
  const target = form.target.trim();
  const display = form.displayName.trim();
  if (form.kind === "event") {
    if (!target) return { error: "event_name: the name of the custom event is needed" };
    return { body: { kind: "event", event_name: target, ...(display && { display_name: display }) } };
  }
  if (!target) return { error: "page_path: a path pattern such as /thank-you or /docs/* is needed" };
  if (!target.startsWith("/")) return { error: "page_path: a path pattern starts with /" };
  return { body: { kind: "page", page_path: target, ...(display && { display_name: display }) } };
}

/** What a goal counts, as a line of the list. */
export function goalTarget(goal: Goal): string {
  return goal.kind === "event" ? `Event ${goal.event_name ?? ""}` : `Visit of ${goal.page_path ?? ""}`;
}

function GoalRow({ site, goal }: { site: Site; goal: Goal }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(goal.display_name);
  const refresh = () => queryClient.invalidateQueries({ queryKey: goalsKey(site.id) });
  const rename = useMutation({
    mutationFn: () => api<Goal>(`/api/v1/sites/${site.id}/goals/${goal.id}`, {
      method: "PUT",
      body: { kind: goal.kind, ...(goal.kind === "event" ? { event_name: goal.event_name } : { page_path: goal.page_path }),
              display_name: name.trim() },
    }),
    onSuccess: () => { setEditing(false); return refresh(); },
  });
  const remove = useMutation({
    mutationFn: () => api(`/api/v1/sites/${site.id}/goals/${goal.id}`, { method: "DELETE" }),
    onSuccess: refresh,
  });
  return (
    <li className="space-y-2 py-2" data-testid="goal">
      {editing ? (
        <form className="flex flex-wrap items-end gap-2" onSubmit={(e) => { e.preventDefault(); rename.mutate(); }}>
          <div className="min-w-48 flex-1"><Input label="Display name" value={name} onChange={(e) => setName(e.target.value)} /></div>
          <Button type="submit" disabled={!name.trim() || rename.isPending}>Save</Button>
          <Button type="button" variant="ghost" onClick={() => { setEditing(false); setName(goal.display_name); rename.reset(); }}>Cancel</Button>
        </form>
      ) : (
        <div className="flex flex-wrap items-center justify-between gap-2">
          <div className="min-w-0">
            <p className="truncate font-medium">{goal.display_name}</p>
            <p className="truncate text-xs text-gray-500 dark:text-gray-400"><code>{goalTarget(goal)}</code></p>
          </div>
          <span className="flex gap-1">
            <Button variant="secondary" className="py-1" onClick={() => setEditing(true)}>Edit</Button>
            <Button variant="ghost" className="py-1 text-red-600 dark:text-red-400" disabled={remove.isPending}
              aria-label={`Delete ${goal.display_name}`} onClick={() => remove.mutate()}>Delete</Button>
          </span>
        </div>
      )}
      <ErrorBox error={rename.error ?? remove.error} />
    </li>
  );
}

function AddGoal({ site }: { site: Site }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState<GoalForm>({ kind: "event", target: "", displayName: "" });
  const [problem, setProblem] = useState<string | null>(null);
  const add = useMutation({
    mutationFn: (body: Record<string, string>) => api<Goal>(`/api/v1/sites/${site.id}/goals`, { body }),
    onSuccess: () => {
      setForm({ ...form, target: "", displayName: "" });
      return queryClient.invalidateQueries({ queryKey: goalsKey(site.id) });
    },
  });
  const submit = () => {
    const checked = goalBody(form);
    if ("error" in checked) {
      setProblem(checked.error);
      return;
    }
    setProblem(null);
    add.mutate(checked.body);
  };
  return (
    <form className="max-w-xl space-y-3" aria-label="Add a goal" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2 className="font-semibold">Add a goal</h2>
      <label className="block text-sm">
        <span className="mb-1 block font-medium text-gray-700 dark:text-gray-300">Goal type</span>
        <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value as GoalForm["kind"] })}
          className="w-full rounded-md border border-gray-300 bg-white px-3 py-2 dark:border-gray-700 dark:bg-gray-900">
          <option value="event">Custom event</option>
          <option value="page">Page visit</option>
        </select>
      </label>
      <Input label={form.kind === "event" ? "Event name" : "Path pattern"} value={form.target}
        placeholder={form.kind === "event" ? "signup" : "/thank-you or /docs/*"}
        onChange={(e) => setForm({ ...form, target: e.target.value })} />
      <Input label="Display name (optional)" value={form.displayName}
        onChange={(e) => setForm({ ...form, displayName: e.target.value })} />
      <ErrorBox error={problem ?? add.error} />
      <Button type="submit" disabled={add.isPending}>Add goal</Button>
    </form>
  );
}

export function GoalSettings({ site }: { site: Site }) {
  const goals = useGoalsQuery(site.id);
  return (
    <div className="space-y-4">
      <p className="text-sm text-gray-600 dark:text-gray-400">
        Custom events show up in the Goals panel by their name on their own (<code>data-postmetric-goal="signup"</code> on a
        button or link, <code>postmetric('signup')</code> from code). Define a goal to give one a display name, or to count
        visits of pages matching a path pattern (<code>*</code> is any text).
      </p>
      <ErrorBox error={goals.error} />
      {goals.isPending ? <Spinner /> : goals.data && (
        goals.data.length === 0
          ? <p className="text-sm text-gray-500 dark:text-gray-400">No goals defined yet.</p>
          : <ul className="divide-y divide-gray-100 dark:divide-gray-800" aria-label="Goals">
              {goals.data.map((goal) => <GoalRow key={goal.id} site={site} goal={goal} />)}
            </ul>
      )}
      <AddGoal site={site} />
    </div>
  );
}
