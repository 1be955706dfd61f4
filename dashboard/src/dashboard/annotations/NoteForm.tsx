/** Writing a note on the chart (owners and admins): its time in the site's time zone, its text, a link. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, ErrorBox, Input } from "../../components/ui";
import { annotationsKey } from "../../hooks/queries";
import { type Annotation, type AnnotationBody, api } from "../../lib/api";
import { fromLocalInput, toLocalInput } from "./impact";

/** Create (`note` absent) or rewrite a note; `onDone` after saving or cancelling. */
export function NoteForm({ siteId, timeZone, note, onDone }: {
  siteId: string; timeZone: string; note?: Annotation; onDone: () => void;
}) {
  const client = useQueryClient();
  const [time, setTime] = useState(() => toLocalInput(note?.time ?? new Date(), timeZone));
  const [text, setText] = useState(note?.text ?? "");
  const [url, setUrl] = useState(note?.url ?? "");
  const save = useMutation({
    mutationFn: () => {
      const iso = fromLocalInput(time, timeZone);
      if (!iso) throw new Error("time: choose a date and a time");
      const body: AnnotationBody = { time: iso, text, url: url.trim() || null, kind: "note" };
      const path = `/api/v1/sites/${siteId}/annotations`;
      return note
        ? api<Annotation>(`${path}/${note.id}`, { method: "PUT", body })
        : api<Annotation>(path, { body });
    },
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: annotationsKey(siteId) });
      if (note) await client.invalidateQueries({ queryKey: ["impact", siteId, note.id] });
      onDone();
    },
  });
  return (
    <form className="space-y-2" aria-label={note ? "Edit the note" : "Add a note"}
      onSubmit={(e) => { e.preventDefault(); save.mutate(); }}>
      <Input label={`When (${timeZone})`} type="datetime-local" required value={time}
        onChange={(e) => setTime(e.target.value)} />
      <label className="block text-sm">
        <span className="mb-1 block font-medium text-gray-700 dark:text-gray-300">Note</span>
        <textarea required maxLength={500} rows={2} value={text} onChange={(e) => setText(e.target.value)}
          className="w-full rounded-md border border-gray-300 bg-white px-3 py-2 text-gray-900 focus:border-indigo-500 focus:outline-none dark:border-gray-700 dark:bg-gray-900 dark:text-gray-100" />
      </label>
      <Input label="Link (optional)" type="url" value={url} onChange={(e) => setUrl(e.target.value)}
        placeholder="https://" />
      <ErrorBox error={save.error} />
      <div className="flex gap-2">
        <Button type="submit" className="px-2 py-1 text-xs" disabled={save.isPending}>{note ? "Save" : "Add note"}</Button>
        <Button type="button" variant="secondary" className="px-2 py-1 text-xs" onClick={onDone}>Cancel</Button>
      </div>
    </form>
  );
}

export function useDeleteNote(siteId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (annotationId: number) =>
      api(`/api/v1/sites/${siteId}/annotations/${annotationId}`, { method: "DELETE" }),
    onSuccess: () => client.invalidateQueries({ queryKey: annotationsKey(siteId) }),
  });
}
