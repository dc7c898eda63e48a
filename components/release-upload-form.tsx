"use client";

import Uppy, { type UppyFile } from "@uppy/core";
import { UppyContextProvider, useDropzone } from "@uppy/react";
import Tus, { type TusBody } from "@uppy/tus";
import { useEffect, useRef, useState } from "react";
import type { ActionResult } from "@/lib/entry/action-result";
import { formatBytes } from "@/lib/storage/format-bytes";
import { UPLOAD_CHUNK_BYTES, UPLOADS_PATH, uploadIdFromUrl } from "@/lib/storage/upload-protocol";
import { ProgressBar } from "./deployment-status";
import { ActionForm, Button, CheckboxField, Field, TextAreaField } from "./form";

type Result = ActionResult<{ redirectTo?: string } | undefined>;
type UploadMeta = { applicationId: string; fileName: string };
type UploadFile = UppyFile<UploadMeta, TusBody>;

/** Where one file's upload stands, as this page last heard from Uppy. */
interface Transfer {
  fileId: string;
  name: string;
  size: number;
  phase: "uploading" | "paused" | "done" | "failed";
  sent: number;
  /** Bytes per second over the last few seconds; null until measurable. */
  speed: number | null;
  /** The offset the server already had when this page started sending (a resumed upload), else null. */
  resumedFrom: number | null;
  /** The tus upload id once the file is complete: what the form submits. */
  uploadId: string | null;
  error: string | null;
}

/** Retries of a broken-off request before the person is asked: about 40 s of a dropped connection. */
const RETRY_DELAYS_MS = [0, 1_000, 3_000, 5_000, 10_000, 20_000];
/** The window over which the speed (and so the time left) is measured. */
const SPEED_WINDOW_MS = 5_000;

/**
 * A Uppy instance for one application's uploads. Its id is part of every file's fingerprint, under which tus
 * remembers the upload URL in localStorage: the same file picked again after a reload or a lost connection
 * continues where it stopped, and a file picked for another application starts its own upload.
 */
function createUploader(applicationId: string, maxBytes: number, onPatch: (fileId: string, offset: number) => void) {
  return new Uppy<UploadMeta, TusBody>({
    id: `release-upload-${applicationId}`,
    autoProceed: true,
    restrictions: { maxNumberOfFiles: 1, maxFileSize: maxBytes, minFileSize: 1 },
    meta: { applicationId, fileName: "" },
    // The server records the name it is told; the browser knows it.
    onBeforeFileAdded: (file) => ({ ...file, meta: { ...file.meta, fileName: file.name ?? "artifact" } }),
  }).use(Tus, {
    // Absolute: tus resolves the relative upload URLs the server answers with against it.
    endpoint: `${window.location.origin}${UPLOADS_PATH}`,
    chunkSize: UPLOAD_CHUNK_BYTES,
    retryDelays: RETRY_DELAYS_MS,
    allowedMetaFields: ["applicationId", "fileName"],
    // Kept after success: the same file picked again (after a reload, say) is recognised as uploaded already.
    removeFingerprintOnSuccess: false,
    onBeforeRequest: (req, file) => {
      if (req.getMethod() === "PATCH") onPatch(file.id, Number(req.getHeader("Upload-Offset")));
    },
  });
}

/** The server's own words for a refused upload (our JSON error body, or tus's plain text), else a plain summary. */
function uploadErrorMessage(error: { message: string }, response?: { status: number; body?: TusBody }): string {
  const text = response?.body?.xhr?.responseText?.trim();
  if (text) {
    try {
      const parsed = JSON.parse(text) as { error?: { message?: string } };
      if (parsed.error?.message) return parsed.error.message;
    } catch {
      if (text.length < 300) return text;
    }
  }
  if (response?.status === 401) return "Your session has ended. Sign in again in another tab, then resume.";
  if (!response || response.status === 0) return "The connection to the server was lost. Resume to continue where it stopped.";
  return `The upload failed (${error.message}).`;
}

function formatDuration(seconds: number): string {
  if (seconds < 1) return "less than a second";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/**
 * The release form: the build archive uploaded resumably (tus, through Uppy) while the person fills in the fields,
 * then one save that turns the finished upload into the release. A refused field keeps everything typed and the
 * uploaded file; saving again does not upload again.
 */
export function ReleaseUploadForm({
  applicationId,
  maxBytes,
  action,
}: {
  applicationId: string;
  maxBytes: number;
  action: (formData: FormData) => Promise<Result>;
}) {
  const [uppy, setUppy] = useState<Uppy<UploadMeta, TusBody> | null>(null);
  const [transfer, setTransfer] = useState<Transfer | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const samples = useRef<{ t: number; bytes: number }[]>([]);
  const patches = useRef(new Map<string, number>());

  useEffect(() => {
    const u = createUploader(applicationId, maxBytes, (fileId, offset) => {
      // The first PATCH of this page tells where the server's copy stood: above 0 means the upload resumed.
      if (patches.current.has(fileId)) return;
      patches.current.set(fileId, offset);
      if (offset > 0) setTransfer((t) => (t && t.fileId === fileId ? { ...t, resumedFrom: offset } : t));
    });
    const update = (file: UploadFile | undefined, change: (t: Transfer) => Transfer) =>
      setTransfer((t) => (t && file && t.fileId === file.id ? change(t) : t));
    u.on("file-added", (file) => {
      samples.current = [];
      setNotice(null);
      setTransfer({ fileId: file.id, name: file.name ?? "artifact", size: file.size ?? 0, phase: "uploading", sent: 0, speed: null, resumedFrom: null, uploadId: null, error: null });
    });
    u.on("upload-progress", (file, progress) => {
      const now = performance.now();
      const window_ = samples.current.filter((s) => now - s.t <= SPEED_WINDOW_MS);
      window_.push({ t: now, bytes: progress.bytesUploaded });
      samples.current = window_;
      const first = window_[0]!;
      const speed = now - first.t >= 500 ? ((progress.bytesUploaded - first.bytes) * 1000) / (now - first.t) : null;
      update(file, (t) => ({ ...t, sent: progress.bytesUploaded, speed: speed ?? t.speed, phase: t.phase === "failed" ? "uploading" : t.phase, error: null }));
    });
    u.on("upload-success", (file, response) => {
      const uploadId = response.uploadURL ? uploadIdFromUrl(response.uploadURL) : null;
      update(file, (t) => ({ ...t, phase: uploadId ? "done" : "failed", sent: t.size, uploadId, error: uploadId ? null : "The server did not say where the upload is. Remove the file and upload it again." }));
    });
    u.on("upload-error", (file, error, response) => {
      update(file, (t) => ({ ...t, phase: "failed", speed: null, error: uploadErrorMessage(error, response) }));
    });
    u.on("upload-pause", (file, isPaused) => {
      samples.current = [];
      update(file, (t) => ({ ...t, phase: isPaused ? "paused" : "uploading", speed: null }));
    });
    u.on("file-removed", (file) => {
      patches.current.delete(file.id);
      setTransfer((t) => (t?.fileId === file.id ? null : t));
    });
    u.on("restriction-failed", (_file, error) => setNotice(error.message));
    setUppy(u);
    // Leaving the page pauses (the server keeps what it received; picking the file again resumes). Not destroy():
    // that would cancel the upload on the server too.
    return () => u.pauseAll();
  }, [applicationId, maxBytes]);

  const ready = transfer?.phase === "done" && transfer.uploadId !== null;
  async function save(formData: FormData): Promise<Result> {
    if (!ready) {
      const error = transfer ? "Wait until the upload has finished, then save." : "Choose the build archive to upload first.";
      return { ok: false, error, fieldErrors: { uploadId: [error] } };
    }
    const result = await action(formData);
    // The upload is gone (expired or used): let the person pick the file again.
    if (!result.ok && result.fieldErrors?.uploadId && transfer && uppy) {
      uppy.removeFile(transfer.fileId);
      setNotice(result.error);
    }
    return result;
  }

  return (
    <ActionForm action={save} submitLabel="Save release" pendingLabel="Saving… (hashing the artifact)" resetOnSuccess={false}>
      <section aria-label="Build archive" className="space-y-2">
        <p className="block text-sm font-medium text-slate-700">Build archive</p>
        {uppy ? (
          // @uppy/react types its context with Uppy's default file meta; the dropzone hook only adds files to it.
          <UppyContextProvider uppy={uppy as unknown as Uppy}>
            {transfer ? <TransferView transfer={transfer} uppy={uppy} /> : <DropZone maxBytes={maxBytes} />}
          </UppyContextProvider>
        ) : (
          <div className="h-36 rounded-lg border-2 border-dashed border-slate-200 bg-white" aria-hidden />
        )}
        {notice && (
          <p role="alert" className="text-sm text-rose-700" data-testid="upload-notice">
            {notice}
          </p>
        )}
        <input type="hidden" name="uploadId" value={transfer?.uploadId ?? ""} />
        <input type="hidden" name="applicationId" value={applicationId} />
      </section>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field name="version" label="Version" placeholder="1.4.0" hint="Unique within the application, like 1.4.0 or 2.0.0-rc.1." autoComplete="off" />
        <Field
          name="sha256"
          label="Expected SHA-256 (optional)"
          placeholder="what sha256sum prints"
          hint="The server hashes the upload itself; give yours and a different file is refused."
          monospace
          autoComplete="off"
        />
      </div>
      <TextAreaField
        name="notes"
        label="Release notes"
        rows={8}
        placeholder={"## What changed\n\n- Faster checkout\n- Fixed the VAT rounding on invoices"}
        hint="Markdown: headings, lists, links, `code`. HTML is shown as text, never run."
      />
      <CheckboxField name="needsMigration" label="This release needs a database migration" />
      <TextAreaField
        name="migrationInstructions"
        label="Patch and migration instructions"
        rows={4}
        placeholder="What ops must know before promoting: backups, maintenance page, manual steps."
        hint="Shown to ops before they promote the release. Markdown."
      />
    </ActionForm>
  );
}

function DropZone({ maxBytes }: { maxBytes: number }) {
  const [over, setOver] = useState(false);
  const { getRootProps, getInputProps } = useDropzone({ onDragEnter: () => setOver(true), onDragLeave: () => setOver(false), onDrop: () => setOver(false) });
  const input = getInputProps();
  return (
    <div
      {...getRootProps()}
      role="button"
      tabIndex={0}
      aria-describedby="upload-limits"
      data-testid="upload-dropzone"
      className={`flex h-36 cursor-pointer flex-col items-center justify-center gap-1 rounded-lg border-2 border-dashed px-6 text-center transition focus:outline-none focus:ring-2 focus:ring-indigo-200 ${over ? "border-indigo-500 bg-indigo-50" : "border-slate-300 bg-white hover:border-indigo-400"}`}
    >
      {/* No name: the file travels by tus, never inside the form. */}
      <input {...input} className="hidden" aria-label="Build archive file" />
      <p className="text-sm font-medium text-slate-800">
        Drop the build archive here, or <span className="text-indigo-700 underline">choose a file</span>
      </p>
      <p id="upload-limits" className="text-xs text-slate-500">
        tar.gz or zip, up to {formatBytes(maxBytes)}. An interrupted upload continues where it stopped when you pick the same file again.
      </p>
    </div>
  );
}

function TransferView({ transfer: t, uppy }: { transfer: Transfer; uppy: Uppy<UploadMeta, TusBody> }) {
  const fraction = t.size > 0 ? t.sent / t.size : 0;
  const left = t.speed && t.speed > 0 ? (t.size - t.sent) / t.speed : null;
  const tone = t.phase === "failed" ? "red" : t.phase === "done" ? "green" : t.phase === "paused" ? "amber" : "blue";
  let status: string;
  if (t.phase === "done") status = `Uploaded · ${formatBytes(t.size)}`;
  else if (t.phase === "paused") status = `Paused at ${Math.floor(fraction * 100)}% · ${formatBytes(t.sent)} of ${formatBytes(t.size)}`;
  else if (t.phase === "failed") status = `Stopped at ${formatBytes(t.sent)} of ${formatBytes(t.size)}`;
  else
    status = [
      `${formatBytes(t.sent)} of ${formatBytes(t.size)}`,
      t.speed ? `${formatBytes(Math.round(t.speed))}/s` : "measuring speed…",
      left !== null ? `${formatDuration(left)} left` : null,
    ]
      .filter(Boolean)
      .join(" · ");
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="upload-transfer" data-phase={t.phase} data-sent={t.sent}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="truncate text-sm font-medium text-slate-900" data-testid="upload-file-name">
            {t.name}
          </p>
          <p className="text-xs text-slate-600" data-testid="upload-status" aria-live="polite">
            {status}
          </p>
        </div>
        <div className="flex items-center gap-2">
          {(t.phase === "uploading" || t.phase === "paused") && (
            <Button type="button" variant="secondary" onClick={() => uppy.pauseResume(t.fileId)}>
              {t.phase === "paused" ? "Resume" : "Pause"}
            </Button>
          )}
          {t.phase === "failed" && (
            <Button type="button" variant="secondary" onClick={() => void uppy.retryUpload(t.fileId)}>
              Resume
            </Button>
          )}
          <Button type="button" variant="secondary" onClick={() => uppy.removeFile(t.fileId)}>
            {t.phase === "done" ? "Choose another file" : "Cancel upload"}
          </Button>
        </div>
      </div>
      <ProgressBar value={fraction} tone={tone} label={`Upload of ${t.name}`} className="mt-3" />
      {t.resumedFrom !== null && (
        <p className="mt-2 text-xs text-slate-600" data-testid="upload-resumed-from" data-offset={t.resumedFrom}>
          Resumed: the server already had {formatBytes(t.resumedFrom)}, so only the rest is sent.
        </p>
      )}
      {t.error && (
        <p role="alert" className="mt-2 text-sm text-rose-700" data-testid="upload-error">
          {t.error}
        </p>
      )}
    </div>
  );
}
