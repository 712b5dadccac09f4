import { type QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { setUnauthenticatedHandler } from "./api/client";
import { AuthGate } from "./auth/auth-gate";
import { redirectToLogin } from "./auth/redirect";
import { AppShell } from "./components/app-shell";
import { usePathname } from "./routes/router";

/** Share links (`/r/<token>`) open without a login, outside the app shell. */
const SharedReportPage = lazy(() => import("./reports/shared-report-page"));
const isSharedReport = (pathname: string) => pathname.startsWith("/r/");
/** Chat apps (`/apps/<slug>`) also stand alone: a share link's visitor has no account. */
const AppChatPage = lazy(() => import("./apps/app-chat-page"));
const isChatApp = (pathname: string) => /^\/apps\/[^/]+\/?$/.test(pathname);

export function App({ queryClient }: { readonly queryClient: QueryClient }) {
  const pathname = usePathname();
  setUnauthenticatedHandler(() => {
    queryClient.setQueryData(["auth", "me"], null);
    redirectToLogin();
  });
  if (isSharedReport(pathname) || isChatApp(pathname)) {
    return (
      <QueryClientProvider client={queryClient}>
        <Suspense fallback={<div className="page page--loading" aria-busy="true" />}>
          {isChatApp(pathname) ? <AppChatPage key={pathname} /> : <SharedReportPage />}
        </Suspense>
      </QueryClientProvider>
    );
  }
  return (
    <QueryClientProvider client={queryClient}>
      <AuthGate>
        <AppShell />
      </AuthGate>
    </QueryClientProvider>
  );
}
