import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Link, matchPath, matchRoutes, navigate, RouterOutlet, useParams } from "./router";

function Home() {
  return <p>home page</p>;
}
function FlowDetail() {
  return <p>flow {useParams().flowId}</p>;
}
function Missing() {
  return <p>missing page</p>;
}

const routes = [
  { path: "/", component: Home },
  { path: "/flows/:flowId", component: FlowDetail },
];

describe("matchPath", () => {
  it("matches static paths, ignoring a trailing slash", () => {
    expect(matchPath("/flows/new", "/flows/new/")).toEqual({});
    expect(matchPath("/flows", "/flows/new")).toBeNull();
  });

  it("captures and decodes params", () => {
    expect(matchPath("/flows/:flowId", "/flows/a%20b")).toEqual({ flowId: "a b" });
  });

  it("takes the first matching route", () => {
    const both = [
      { path: "/flows/new", component: Home },
      { path: "/flows/:flowId", component: FlowDetail },
    ];
    expect(matchRoutes(both, "/flows/new")?.route.component).toBe(Home);
  });
});

describe("RouterOutlet", () => {
  it("renders the route for the current location", () => {
    window.history.replaceState(null, "", "/flows/f1");
    render(<RouterOutlet routes={routes} fallback={Missing} />);
    expect(screen.getByText("flow f1")).toBeInTheDocument();
  });

  it("renders the fallback when nothing matches", () => {
    window.history.replaceState(null, "", "/nowhere");
    render(<RouterOutlet routes={routes} fallback={Missing} />);
    expect(screen.getByText("missing page")).toBeInTheDocument();
  });

  it("follows navigate() and the back button", () => {
    render(<RouterOutlet routes={routes} fallback={Missing} />);
    expect(screen.getByText("home page")).toBeInTheDocument();

    act(() => navigate("/flows/f2"));
    expect(screen.getByText("flow f2")).toBeInTheDocument();

    act(() => {
      window.history.replaceState(null, "", "/");
      window.dispatchEvent(new PopStateEvent("popstate"));
    });
    expect(screen.getByText("home page")).toBeInTheDocument();
  });
});

describe("Link", () => {
  it("navigates in-app on a plain click", () => {
    render(
      <>
        <Link to="/flows/f3">open</Link>
        <RouterOutlet routes={routes} fallback={Missing} />
      </>,
    );
    fireEvent.click(screen.getByRole("link", { name: "open" }));
    expect(window.location.pathname).toBe("/flows/f3");
    expect(screen.getByText("flow f3")).toBeInTheDocument();
  });

  it("leaves modified clicks to the browser", () => {
    render(<Link to="/flows/f4">open</Link>);
    const link = screen.getByRole("link", { name: "open" });
    let leftToBrowser = false;
    const spy = (event: MouseEvent) => {
      leftToBrowser = !event.defaultPrevented;
      event.preventDefault(); // jsdom cannot open a new tab
    };
    window.addEventListener("click", spy);
    fireEvent.click(link, { ctrlKey: true });
    window.removeEventListener("click", spy);
    expect(leftToBrowser).toBe(true);
    expect(window.location.pathname).toBe("/");
  });
});
