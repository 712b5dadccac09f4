import { type QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { setUnauthenticatedHandler } from "./api/client";
import { AuthGate } from "./auth/auth-gate";
import { redirectToLogin } from "./auth/redirect";
import { AppShell } from "./components/app-shell";

export function App({ queryClient }: { readonly queryClient: QueryClient }) {
  setUnauthenticatedHandler(() => {
    queryClient.setQueryData(["auth", "me"], null);
    redirectToLogin();
  });
  return (
    <QueryClientProvider client={queryClient}>
      <AuthGate>
        <AppShell />
      </AuthGate>
    </QueryClientProvider>
  );
}
