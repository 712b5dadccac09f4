import { type QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { AppShell } from "./components/app-shell";

export function App({ queryClient }: { readonly queryClient: QueryClient }) {
  return (
    <QueryClientProvider client={queryClient}>
      <AppShell />
    </QueryClientProvider>
  );
}
