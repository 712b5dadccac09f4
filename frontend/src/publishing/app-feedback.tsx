import { type AppRead, useAppFeedback } from "../api/apps";
import { Link } from "../routes/router";

const excerpt = (text: string, length = 160) =>
  text.length > length ? `${text.slice(0, length - 1)}…` : text;

/** The app's rated answers, newest first, each with its question and a link to its run. */
export function AppFeedback({ app }: { readonly app: AppRead }) {
  const feedback = useAppFeedback(app.id);
  return (
    <div className="app-details__section">
      <h3 className="app-details__title">Feedback</h3>
      {feedback.error ? <p className="form-error">{feedback.error.message}</p> : null}
      {feedback.data?.length === 0 ? <p className="muted">No rated answers yet.</p> : null}
      {feedback.data?.length ? (
        <table className="table" aria-label={`Feedback on ${app.title}`}>
          <thead>
            <tr>
              <th>Rating</th>
              <th>Question</th>
              <th>Answer</th>
              <th>When</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {feedback.data.map((item) => (
              <tr key={item.message.id} data-testid="feedback-row">
                <td>
                  <span
                    className={`app-rating app-rating--${item.feedback ?? "none"}`}
                    role="img"
                    aria-label={item.feedback === "up" ? "Good answer" : "Bad answer"}
                  >
                    {item.feedback === "up" ? "▲ good" : "▼ bad"}
                  </span>
                </td>
                <td>{excerpt(item.question, 120)}</td>
                <td>
                  {excerpt(item.message.content)}
                  {item.comment ? <div className="muted">“{excerpt(item.comment)}”</div> : null}
                </td>
                <td>{new Date(item.created_at).toLocaleString()}</td>
                <td className="table__actions">
                  {item.run_id ? (
                    <Link
                      className="button button--ghost"
                      to={`/flows/${encodeURIComponent(app.flow_id)}?run=${encodeURIComponent(item.run_id)}`}
                    >
                      Open run
                    </Link>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
