"use server";

import { runAction } from "@/lib/entry/action";
import { completeReleaseUpload, ZCompleteReleaseUploadRequestSchema } from "@/lib/releases/complete-release-upload";

/** The release form's save: the finished browser upload becomes a release; the person goes on to its page. */
export async function createReleaseAction(formData: FormData) {
  return runAction({ name: "create-release" }, ZCompleteReleaseUploadRequestSchema, formData, async (input, actor) => {
    const release = await completeReleaseUpload(actor, input);
    return { message: `Release ${release.version} saved.`, data: { redirectTo: `/apps/${release.applicationId}/releases/${release.id}` } };
  });
}
