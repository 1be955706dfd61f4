/** Login, signup, forgotten and reset password, accepting an invitation. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { Shell } from "../components/Layout";
import { Button, Card, ErrorBox, Input, Spinner } from "../components/ui";
import { useSessionQuery } from "../hooks/queries";
import { api, type SessionInfo, setCsrfToken } from "../lib/api";

function AuthCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Shell>
      <Card className="mx-auto mt-6 max-w-sm sm:mt-16">
        <h1 className="mb-4 text-xl font-semibold">{title}</h1>
        {children}
      </Card>
    </Shell>
  );
}

function useSignIn(path: string, extra: Record<string, string> = {}) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  return useMutation({
    mutationFn: (body: { email: string; password: string }) => api<SessionInfo>(path, { body: { ...body, ...extra } }),
    onSuccess: (session) => {
      setCsrfToken(session.csrf_token);
      queryClient.setQueryData(["session"], session);
      const next = params.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/sites");
    },
  });
}

function EmailPasswordForm({ mutation, submit }: { mutation: ReturnType<typeof useSignIn>; submit: string }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate({ email, password });
  };
  return (
    <form onSubmit={onSubmit} className="space-y-3">
      <Input label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      <Input label="Password" type="password" autoComplete={submit === "Sign up" ? "new-password" : "current-password"}
        required value={password} onChange={(e) => setPassword(e.target.value)} />
      <ErrorBox error={mutation.error} />
      <Button type="submit" className="w-full" disabled={mutation.isPending}>{submit}</Button>
    </form>
  );
}

export function LoginPage() {
  const mutation = useSignIn("/api/v1/auth/login");
  const [params] = useSearchParams();
  return (
    <AuthCard title="Log in">
      <EmailPasswordForm mutation={mutation} submit="Log in" />
      <div className="mt-4 flex justify-between text-sm">
        <Link className="text-indigo-600 dark:text-indigo-400" to={`/signup${params.toString() ? `?${params}` : ""}`}>Create an account</Link>
        <Link className="text-indigo-600 dark:text-indigo-400" to="/forgot-password">Forgot password?</Link>
      </div>
    </AuthCard>
  );
}

interface SignupPolicy { mode: "open" | "invite" | "closed"; open: boolean; reason: string | null }

/** The invitation this signup comes from: `?next=/invitations/<token>`, as the invitation page links here. */
function invitationToken(params: URLSearchParams): string | null {
  const match = /^\/invitations\/([^/?#]+)$/.exec(params.get("next") ?? "");
  return match ? decodeURIComponent(match[1]) : null;
}

export function SignupPage() {
  const [params] = useSearchParams();
  const invitation = invitationToken(params);
  const policy = useQuery({ queryKey: ["signup-policy"], queryFn: () => api<SignupPolicy>("/api/v1/auth/signup") });
  const mutation = useSignIn("/api/v1/auth/signup", invitation ? { invitation } : {});
  // By invitation, the server checks the token with the address; closed, nobody gets a form.
  const refused = policy.data && !policy.data.open && (policy.data.mode === "closed" || !invitation);
  return (
    <AuthCard title="Create your account">
      {policy.isPending ? <Spinner /> : refused ? (
        <div role="alert" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-700 dark:bg-amber-950">
          {policy.data.mode === "closed"
            ? "This instance does not take new accounts: its administrator creates them."
            : "This instance takes new accounts by invitation only: ask a site's owner to invite you, then follow the link in the email."}
        </div>
      ) : (
        <>
          <ErrorBox error={policy.error} />
          <EmailPasswordForm mutation={mutation} submit="Sign up" />
        </>
      )}
      <p className="mt-4 text-sm">Have an account? <Link className="text-indigo-600 dark:text-indigo-400" to={`/login${params.toString() ? `?${params}` : ""}`}>Log in</Link></p>
    </AuthCard>
  );
}

export function ForgotPasswordPage() {
  const [email, setEmail] = useState("");
  const mutation = useMutation({ mutationFn: () => api("/api/v1/auth/password-reset", { body: { email } }) });
  return (
    <AuthCard title="Reset your password">
      {mutation.isSuccess ? (
        <p className="text-sm">If an account uses {email}, a link to reset its password is on its way.</p>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); mutation.mutate(); }} className="space-y-3">
          <Input label="Email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <ErrorBox error={mutation.error} />
          <Button type="submit" className="w-full" disabled={mutation.isPending}>Send the link</Button>
        </form>
      )}
      <p className="mt-4 text-sm"><Link className="text-indigo-600 dark:text-indigo-400" to="/login">Back to log in</Link></p>
    </AuthCard>
  );
}

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const [password, setPassword] = useState("");
  const token = params.get("token") ?? "";
  const mutation = useMutation({
    mutationFn: () => api("/api/v1/auth/password-reset/confirm", { body: { token, password } }),
  });
  return (
    <AuthCard title="Choose a new password">
      {mutation.isSuccess ? (
        <p className="text-sm">Your password is changed. <Link className="text-indigo-600 dark:text-indigo-400" to="/login">Log in</Link></p>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); mutation.mutate(); }} className="space-y-3">
          {!token && <ErrorBox error="This link has no reset token: open the link from the email again." />}
          <Input label="New password" type="password" autoComplete="new-password" required value={password}
            onChange={(e) => setPassword(e.target.value)} />
          <ErrorBox error={mutation.error} />
          <Button type="submit" className="w-full" disabled={mutation.isPending || !token}>Set password</Button>
        </form>
      )}
    </AuthCard>
  );
}

export function AcceptInvitationPage() {
  const { token = "" } = useParams();
  const session = useSessionQuery();
  const navigate = useNavigate();
  const mutation = useMutation({
    mutationFn: () => api<{ site_id: string; role: string }>(`/api/v1/invitations/${encodeURIComponent(token)}/accept`, { method: "POST" }),
    onSuccess: (answer) => navigate(`/sites/${answer.site_id}`),
  });
  const here = encodeURIComponent(`/invitations/${token}`);
  return (
    <AuthCard title="Join a site">
      {session.data ? (
        <>
          <p className="mb-3 text-sm">Accept this invitation as {session.data.user.email}?</p>
          <ErrorBox error={mutation.error} />
          <Button className="mt-3 w-full" onClick={() => mutation.mutate()} disabled={mutation.isPending}>Accept</Button>
        </>
      ) : (
        <p className="text-sm">
          <Link className="text-indigo-600 dark:text-indigo-400" to={`/login?next=${here}`}>Log in</Link> or{" "}
          <Link className="text-indigo-600 dark:text-indigo-400" to={`/signup?next=${here}`}>sign up</Link> to accept it.
        </p>
      )}
    </AuthCard>
  );
}
