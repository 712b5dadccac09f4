import { useMutation } from "@tanstack/react-query";
import { type DragEvent, type FormEvent, useId, useState } from "react";
import { addUrls, type IngestJob, uploadFiles } from "../api/knowledge";

interface UploadZoneProps {
  readonly space: string;
  /** Called with the job each upload (or URL) started. */
  readonly onJob: (job: IngestJob) => void;
  /** While a job runs, new uploads wait. */
  readonly busy?: boolean;
}

/** Add documents: drop files (several at once) or pick them, or give a URL for the server to fetch. */
export function UploadZone({ space, onJob, busy = false }: UploadZoneProps) {
  const inputId = useId();
  const [dragging, setDragging] = useState(false);
  const [url, setUrl] = useState("");
  const upload = useMutation({
    mutationFn: (files: readonly File[]) => uploadFiles(space, files),
    onSuccess: (job) => onJob(job),
  });
  const fetchUrl = useMutation({
    mutationFn: (target: string) => addUrls(space, [target]),
    onSuccess: (job) => {
      setUrl("");
      onJob(job);
    },
  });
  const disabled = busy || upload.isPending || fetchUrl.isPending;

  const send = (files: FileList | null) => {
    if (!files?.length || disabled) return;
    upload.mutate([...files]);
  };
  const onDrop = (event: DragEvent<HTMLElement>) => {
    event.preventDefault();
    setDragging(false);
    send(event.dataTransfer.files);
  };
  const onDragOver = (event: DragEvent<HTMLElement>) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = disabled ? "none" : "copy";
    setDragging(true);
  };
  const submitUrl = (event: FormEvent) => {
    event.preventDefault();
    if (url.trim() && !disabled) fetchUrl.mutate(url.trim());
  };

  const error = upload.error ?? fetchUrl.error;
  return (
    <div className="upload">
      <section
        className={`upload-zone${dragging ? " upload-zone--over" : ""}${disabled ? " upload-zone--busy" : ""}`}
        aria-label="Drop files to upload"
        data-testid="upload-zone"
        onDragOver={onDragOver}
        onDragEnter={onDragOver}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p className="upload-zone__title">{upload.isPending ? "Uploading…" : "Drop files here"}</p>
        <p className="muted">txt, md, html, pdf, docx, csv, xlsx, json — several at once.</p>
        <label htmlFor={inputId} className="button button--ghost upload-zone__pick">
          Choose files
        </label>
        <input
          id={inputId}
          type="file"
          multiple
          className="upload-zone__input"
          aria-label="Choose files"
          disabled={disabled}
          onChange={(event) => {
            send(event.target.files);
            event.target.value = "";
          }}
        />
      </section>
      <form className="upload__url" onSubmit={submitUrl} aria-label="Add a web page">
        <input
          type="url"
          className="field__input"
          aria-label="URL"
          placeholder="https://example.com/page.html"
          value={url}
          onChange={(event) => setUrl(event.target.value)}
        />
        <button type="submit" className="button" disabled={disabled || !url.trim()}>
          {fetchUrl.isPending ? "Adding…" : "Add URL"}
        </button>
      </form>
      {error ? <p role="alert">{error.message}</p> : null}
    </div>
  );
}
