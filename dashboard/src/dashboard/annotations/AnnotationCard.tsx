/** The card of a chart marker: each annotation of the bucket (a commit, a post, a note) with its impact; the
 * notes editable and deletable by the site's owners and admins. */
import { useState } from "react";
import { Button, ErrorBox } from "../../components/ui";
import { useImpactQuery } from "../../hooks/queries";
import type { Annotation, AroundImpact, GitHubDetails, PostImpact, XDetails } from "../../lib/api";
import { formatDateTime, formatNumber } from "../../lib/format";
import { firstLine, groupTitle, type Kind } from "./grouping";
import { aroundRows, postSummary } from "./impact";
import { NoteForm, useDeleteNote } from "./NoteForm";

const KIND_BADGES: Record<Kind, string> = {
  note: "bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-200",
  github: "bg-gray-200 text-gray-800 dark:bg-gray-700 dark:text-gray-100",
  x: "bg-sky-100 text-sky-800 dark:bg-sky-900 dark:text-sky-200",
};
const KIND_NAMES: Record<Kind, string> = { note: "Note", github: "Commit", x: "Post" };
/** A bucket can hold hundreds of commits; the card lists the newest few. */
const MAX_LISTED = 8;

export function AnnotationCard({ annotations, siteId, timeZone, canManage, onClose }: {
  annotations: Annotation[]; siteId: string; timeZone: string; canManage: boolean; onClose: () => void;
}) {
  const listed = annotations.slice(-MAX_LISTED).reverse();
  return (
    <div role="dialog" aria-label={groupTitle(annotations)} data-testid="annotation-card"
      className="w-full space-y-3 rounded-lg border border-gray-200 bg-white p-3 text-sm shadow-lg dark:border-gray-700 dark:bg-gray-900">
      <div className="flex items-start justify-between gap-2">
        <h3 className="font-semibold">{annotations.length > 1 ? groupTitle(annotations) : KIND_NAMES[annotations[0].kind]}</h3>
        <button type="button" aria-label="Close" onClick={onClose}
          className="rounded px-1 text-gray-500 hover:bg-gray-100 dark:hover:bg-gray-800">×</button>
      </div>
      <ul className="max-h-96 space-y-3 overflow-y-auto">
        {listed.map((annotation) => (
          <li key={annotation.id} className="space-y-1 border-t border-gray-100 pt-2 first:border-t-0 first:pt-0 dark:border-gray-800">
            <AnnotationItem annotation={annotation} siteId={siteId} timeZone={timeZone} canManage={canManage} />
          </li>
        ))}
      </ul>
      {annotations.length > listed.length && (
        <p className="text-xs text-gray-500">and {annotations.length - listed.length} more in this bucket</p>
      )}
    </div>
  );
}

function AnnotationItem({ annotation, siteId, timeZone, canManage }: {
  annotation: Annotation; siteId: string; timeZone: string; canManage: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const remove = useDeleteNote(siteId);
  if (editing) {
    return <NoteForm siteId={siteId} timeZone={timeZone} note={annotation} onDone={() => setEditing(false)} />;
  }
  return (
    <>
      <div className="flex items-center gap-2 text-xs text-gray-500 dark:text-gray-400">
        <span className={`rounded px-1.5 py-0.5 font-medium ${KIND_BADGES[annotation.kind]}`}>{KIND_NAMES[annotation.kind]}</span>
        <time dateTime={annotation.time}>{formatDateTime(annotation.time, timeZone)}</time>
      </div>
      {annotation.kind === "github" && <CommitBody annotation={annotation} />}
      {annotation.kind === "x" && <PostBody annotation={annotation} />}
      {annotation.kind === "note" && <p className="whitespace-pre-line break-words">{annotation.text}</p>}
      {annotation.url && (
        <a href={annotation.url} target="_blank" rel="noreferrer noopener"
          className="inline-block text-xs text-indigo-600 underline dark:text-indigo-400">
          {annotation.kind === "github" ? "View on GitHub" : annotation.kind === "x" ? "View on X" : "Open link"}
        </a>
      )}
      <Impact siteId={siteId} annotationId={annotation.id} />
      {canManage && annotation.kind === "note" && (
        <div className="flex gap-2 pt-1">
          <Button variant="secondary" className="px-2 py-1 text-xs" onClick={() => setEditing(true)}>Edit</Button>
          <Button variant="ghost" className="px-2 py-1 text-xs text-red-600" disabled={remove.isPending}
            onClick={() => { if (window.confirm("Delete this note?")) remove.mutate(annotation.id); }}>Delete</Button>
        </div>
      )}
      <ErrorBox error={remove.error} />
    </>
  );
}

function CommitBody({ annotation }: { annotation: Annotation }) {
  const details = (annotation.details ?? {}) as Partial<GitHubDetails>;
  return (
    <div className="space-y-0.5">
      <p className="break-words font-medium">
        {details.type === "release" && details.tag
          ? <span className="mr-1 font-mono text-xs">{details.tag}</span>
          : details.sha && <code className="mr-1 font-mono text-xs text-gray-500">{details.sha.slice(0, 7)}</code>}
        {firstLine(annotation.text)}
      </p>
      <p className="text-xs text-gray-500 dark:text-gray-400">
        {annotation.author && <span>{annotation.author}</span>}
        {details.additions != null && details.deletions != null && (
          <span className="ml-2 font-mono">
            <span className="text-emerald-600">+{formatNumber(details.additions)}</span>{" "}
            <span className="text-red-600">−{formatNumber(details.deletions)}</span>
          </span>
        )}
      </p>
    </div>
  );
}

function PostBody({ annotation }: { annotation: Annotation }) {
  const details = (annotation.details ?? {}) as Partial<XDetails>;
  const handle = details.username ? `@${details.username}` : annotation.author;
  const counts: [string, number | undefined][] = [
    ["likes", details.likes], ["reposts", details.reposts], ["replies", details.replies],
    ["impressions", details.impressions],
  ];
  return (
    <div className="space-y-0.5">
      {handle && <p className="font-medium">{handle}{details.name && <span className="ml-1 font-normal text-gray-500">{details.name}</span>}</p>}
      <p className="whitespace-pre-line break-words">{annotation.text}</p>
      <p className="flex flex-wrap gap-x-3 text-xs text-gray-500 dark:text-gray-400">
        {counts.filter(([, value]) => value !== undefined && value !== null).map(([name, value]) => (
          <span key={name}>{formatNumber(value)} {name}</span>
        ))}
      </p>
    </div>
  );
}

function Impact({ siteId, annotationId }: { siteId: string; annotationId: number }) {
  const impact = useImpactQuery(siteId, annotationId);
  if (impact.error) return <ErrorBox error={impact.error} />;
  if (!impact.data) return <p className="animate-pulse text-xs text-gray-500">Loading its impact…</p>;
  if (impact.data.window === "24h") {
    return <p className="rounded bg-sky-50 px-2 py-1 text-xs dark:bg-sky-950" data-testid="impact">{postSummary(impact.data as PostImpact)}</p>;
  }
  const around = impact.data as AroundImpact;
  return (
    <table className="w-full text-xs" data-testid="impact">
      <caption className="pb-0.5 text-left text-gray-500 dark:text-gray-400">
        7 days before → after{around.partial ? " (so far)" : ""}
      </caption>
      <tbody>
        {aroundRows(around).map((row) => (
          <tr key={row.label}>
            <th scope="row" className="pr-2 text-left font-normal text-gray-500 dark:text-gray-400">{row.label}</th>
            <td className="whitespace-nowrap text-right tabular-nums">{row.before} → {row.after}</td>
            <td className={`w-14 whitespace-nowrap text-right tabular-nums ${row.change.startsWith("+") ? "text-emerald-600" : row.change.startsWith("−") ? "text-red-600" : ""}`}>
              {row.change}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
