import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { renderWithClient, stubFetchJson } from "../test/render-with-client";
import { PasswordDialog } from "./password-dialog";

afterEach(() => vi.unstubAllGlobals());

function fill(label: string, value: string) {
  // a label starts with its text (the hint follows inside the label)
  fireEvent.change(screen.getByLabelText(new RegExp(`^${label}`)), { target: { value } });
}

describe("PasswordDialog", () => {
  it("sends the current and new password and reports the signed-out sessions", async () => {
    const fetchMock = stubFetchJson({ revoked_sessions: 2 });
    renderWithClient(<PasswordDialog onClose={() => {}} />);
    fill("Current password", "old-secret");
    fill("New password", "new-secret-1");
    fill("Repeat new password", "new-secret-1");
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByRole("status")).toHaveTextContent("2 other sessions signed out");
    const request = fetchMock.mock.calls[0]?.[0] as Request;
    expect(request.url).toMatch(/\/api\/auth\/password$/);
    expect(await request.json()).toEqual({
      current_password: "old-secret",
      new_password: "new-secret-1",
    });
  });

  it("refuses differing new passwords before calling the server", () => {
    const fetchMock = stubFetchJson({ revoked_sessions: 0 });
    renderWithClient(<PasswordDialog onClose={() => {}} />);
    fill("Current password", "old-secret");
    fill("New password", "new-secret-1");
    fill("Repeat new password", "new-secret-2");
    expect(screen.getByRole("alert")).toHaveTextContent("differ");
    expect(screen.getByRole("button", { name: "Change password" })).toBeDisabled();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("shows the server's reason when the current password is wrong", async () => {
    stubFetchJson({ detail: "the current password is wrong", status: 422 }, 422);
    renderWithClient(<PasswordDialog onClose={() => {}} />);
    fill("Current password", "nope");
    fill("New password", "new-secret-1");
    fill("Repeat new password", "new-secret-1");
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    await waitFor(() =>
      expect(screen.getByRole("alert")).toHaveTextContent("the current password is wrong"),
    );
  });
});
