import { EmptyState } from "../components/empty-state";
import { CompassIcon } from "../components/icons";
import { Link, usePathname } from "./router";

export function NotFoundPage() {
  const pathname = usePathname();
  return (
    <div className="page">
      <EmptyState
        icon={<CompassIcon />}
        title="Page not found"
        actions={
          <Link to="/flows" className="button button--primary">
            Go to flows
          </Link>
        }
      >
        <p>
          Nothing lives at <code>{pathname}</code>.
        </p>
      </EmptyState>
    </div>
  );
}
