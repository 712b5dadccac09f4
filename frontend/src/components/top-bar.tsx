import { UserMenu } from "../auth/user-menu";
import { Link } from "../routes/router";
import { BrandMark } from "./brand-mark";
import { HealthPill } from "./health-pill";
import { NavLink } from "./nav-link";

export function TopBar() {
  return (
    <header className="top-bar">
      <Link to="/" className="brand" aria-label="Rivulet home">
        <BrandMark />
        <span className="brand__name">Rivulet</span>
      </Link>
      <nav className="top-bar__nav" aria-label="Main">
        <NavLink to="/flows" also={["/"]}>
          Flows
        </NavLink>
        <NavLink to="/templates">Templates</NavLink>
        <NavLink to="/runs">Runs</NavLink>
        <NavLink to="/knowledge">Knowledge</NavLink>
        <NavLink to="/data">Data</NavLink>
        <NavLink to="/reports">Reports</NavLink>
        <NavLink to="/evaluations">Evaluations</NavLink>
        <NavLink to="/models">Models</NavLink>
        <NavLink to="/publishing">Publishing</NavLink>
        <NavLink to="/settings">Settings</NavLink>
      </nav>
      <div className="top-bar__status">
        <HealthPill />
        <UserMenu />
      </div>
    </header>
  );
}
