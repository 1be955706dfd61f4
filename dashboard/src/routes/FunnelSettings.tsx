/**
 * Settings → Funnels: the site's funnels (`/api/v1/sites/{id}/funnels`) with edit and delete, and
 * the builder: a name and 2–8 ordered steps, each a page pattern or a goal, with an optional label.
 * The draft is checked here first (dashboard/funnel.ts); the API's own refusal shows by the form.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Input, Spinner } from "../components/ui";
import {
  draftBody, draftErrors, draftOf, EMPTY_STEP, type FunnelDraft, MAX_STEPS, MIN_STEPS, moveStep, newDraft, stepTitle,
} from "../dashboard/funnel";
import { funnelsKey, useFunnelsQuery } from "../hooks/queries";
import { api, type Funnel, type Site } from "../lib/api";

const FIELD = "w-full rounded-md border border-gray-300 bg-white px-2 py-1.5 text-sm dark:border-gray-700 dark:bg-gray-900";

export function FunnelBuilder({ site, editing, onDone }: { site: Site; editing: Funnel | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<FunnelDraft>(editing ? draftOf(editing) : newDraft());
  const [problems, setProblems] = useState<string[]>([]);
  const save = useMutation({
    mutationFn: () => api<Funnel>(editing ? `/api/v1/sites/${site.id}/funnels/${editing.id}` : `/api/v1/sites/${site.id}/funnels`,
                                  { method: editing ? "PUT" : "POST", body: draftBody(draft) }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: funnelsKey(site.id) });
      await queryClient.invalidateQueries({ queryKey: ["funnel-results"] });
      setDraft(newDraft());
      onDone();
    },
  });
  const setStep = (index: number, changes: Partial<FunnelDraft["steps"][number]>) =>
    setDraft({ ...draft, steps: draft.steps.map((step, i) => (i === index ? { ...step, ...changes } : step)) });
  const submit = () => {
    const errors = draftErrors(draft);
    setProblems(errors);
    if (!errors.length) save.mutate();
  };
  return (
    <form className="space-y-3" aria-label={editing ? `Edit ${editing.name}` : "New funnel"}
      onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2 className="font-semibold">{editing ? `Edit “${editing.name}”` : "New funnel"}</h2>
      <div className="max-w-md"><Input label="Funnel name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></div>
      <ol className="space-y-2">
        {draft.steps.map((step, i) => (
          <li key={i} data-testid="builder-step"
            className="grid grid-cols-[auto_1fr] items-start gap-2 rounded-md border border-gray-200 p-2 sm:grid-cols-[auto_8rem_1fr_1fr_auto] dark:border-gray-800">
            <span className="pt-1.5 text-sm font-medium text-gray-500 dark:text-gray-400">{i + 1}.</span>
            <select aria-label={`Step ${i + 1} type`} className={FIELD} value={step.type}
              onChange={(e) => setStep(i, { type: e.target.value as "page" | "goal" })}>
              <option value="page">Page</option>
              <option value="goal">Goal</option>
            </select>
            <input aria-label={`Step ${i + 1} match`} className={`${FIELD} col-start-2 sm:col-start-auto`} value={step.match}
              placeholder={step.type === "page" ? "/pricing or /blog/*" : "signup"}
              onChange={(e) => setStep(i, { match: e.target.value })} />
            <input aria-label={`Step ${i + 1} label`} className={`${FIELD} col-start-2 sm:col-start-auto`} value={step.label}
              placeholder="Label (optional)" onChange={(e) => setStep(i, { label: e.target.value })} />
            <span className="col-start-2 flex gap-1 sm:col-start-auto">
              <Button type="button" variant="ghost" className="px-2 py-1" aria-label={`Move step ${i + 1} up`} disabled={i === 0}
                onClick={() => setDraft({ ...draft, steps: moveStep(draft.steps, i, -1) })}>↑</Button>
              <Button type="button" variant="ghost" className="px-2 py-1" aria-label={`Move step ${i + 1} down`} disabled={i === draft.steps.length - 1}
                onClick={() => setDraft({ ...draft, steps: moveStep(draft.steps, i, 1) })}>↓</Button>
              <Button type="button" variant="ghost" className="px-2 py-1" aria-label={`Remove step ${i + 1}`} disabled={draft.steps.length <= MIN_STEPS}
                onClick={() => setDraft({ ...draft, steps: draft.steps.filter((_, j) => j !== i) })}>✕</Button>
            </span>
          </li>
        ))}
      </ol>
      <Button type="button" variant="secondary" disabled={draft.steps.length >= MAX_STEPS}
        onClick={() => setDraft({ ...draft, steps: [...draft.steps, { ...EMPTY_STEP }] })}>
        Add step{draft.steps.length >= MAX_STEPS ? ` (${MAX_STEPS} at most)` : ""}
      </Button>
      {problems.length > 0 && (
        <ul role="alert" className="list-disc rounded-md border border-red-300 bg-red-50 py-2 pl-8 pr-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
          {problems.map((p) => <li key={p}>{p}</li>)}
        </ul>
      )}
      <ErrorBox error={save.error} />
      <div className="flex gap-2">
        <Button type="submit" disabled={save.isPending}>{editing ? "Save funnel" : "Create funnel"}</Button>
        {editing && <Button type="button" variant="ghost" onClick={onDone}>Cancel</Button>}
      </div>
    </form>
  );
}

function FunnelRow({ site, funnel, onEdit }: { site: Site; funnel: Funnel; onEdit: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api(`/api/v1/sites/${site.id}/funnels/${funnel.id}`, { method: "DELETE" }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: funnelsKey(site.id) }),
  });
  return (
    <li className="space-y-2 py-2" data-testid="funnel">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="truncate font-medium">{funnel.name}</p>
          <p className="text-xs text-gray-500 dark:text-gray-400">{funnel.steps.map(stepTitle).join(" → ")}</p>
        </div>
        <span className="flex gap-1">
          <Button variant="secondary" className="py-1" onClick={onEdit}>Edit</Button>
          <Button variant="ghost" className="py-1 text-red-600 dark:text-red-400" disabled={remove.isPending}
            aria-label={`Delete ${funnel.name}`} onClick={() => remove.mutate()}>Delete</Button>
        </span>
      </div>
      <ErrorBox error={remove.error} />
    </li>
  );
}

export function FunnelSettings({ site }: { site: Site }) {
  const funnels = useFunnelsQuery(site.id);
  const [editing, setEditing] = useState<Funnel | null>(null);
  return (
    <div className="space-y-4">
      <p className="text-sm text-gray-600 dark:text-gray-400">
        A funnel counts the visitors who went through its steps in order (other pages in between are fine). A page step
        matches a path pattern (<code>*</code> is any text); a goal step a goal's name.
      </p>
      <ErrorBox error={funnels.error} />
      {funnels.isPending ? <Spinner /> : funnels.data && (
        funnels.data.funnels.length === 0
          ? <p className="text-sm text-gray-500 dark:text-gray-400">No funnels yet.</p>
          : <ul className="divide-y divide-gray-100 dark:divide-gray-800" aria-label="Funnels">
              {funnels.data.funnels.map((f) => <FunnelRow key={f.id} site={site} funnel={f} onEdit={() => setEditing(f)} />)}
            </ul>
      )}
      <FunnelBuilder key={editing ? String(editing.id) : "new"} site={site} editing={editing} onDone={() => setEditing(null)} />
    </div>
  );
}
