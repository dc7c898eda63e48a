import { authenticateAgent } from "@/lib/agents/authenticate-agent";
import { contextFromHeaders } from "@/lib/auth/request-context";
import { errorResponse } from "@/lib/entry/route";
import { getReleaseArtifact } from "@/lib/releases/get-release-artifact";
import { artifactResponse } from "@/lib/storage/artifact-response";
import { getArtifactStore } from "@/lib/storage/artifact-store";

/**
 * An agent downloads the artifact of a release of its own application (bearer agent secret only), resumable with
 * `Range: bytes=N-`. GET has no body, so agentRoute (JSON bodies) does not apply; the steps are the same.
 */
async function download(request: Request, context: { params: Promise<{ releaseId: string }> }): Promise<Response> {
  const ctx = contextFromHeaders(request.headers);
  try {
    const agent = await authenticateAgent(request.headers.get("authorization"), ctx);
    const artifact = await getReleaseArtifact(agent, (await context.params).releaseId);
    return await artifactResponse(getArtifactStore(), artifact, request);
  } catch (e) {
    return errorResponse(e, ctx.requestId);
  }
}

export const GET = download;
export const HEAD = download;
