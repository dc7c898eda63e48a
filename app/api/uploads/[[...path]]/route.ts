import { z } from "zod";
import { publicRoute, sessionRoute } from "@/lib/entry/route";
import { describeUploadProtocol, handleReleaseUpload } from "@/lib/releases/handle-release-upload";

/**
 * Resumable browser uploads of release artifacts (the tus protocol: POST creates, HEAD tells the offset, PATCH
 * appends, DELETE cancels), for signed-in developers. lib/releases/handle-release-upload.ts authorises each request
 * before a byte is read; the release itself is created by the release form (lib/releases/complete-release-upload.ts).
 * OPTIONS is tus's discovery (version, extensions, size limit): without it Next answered with a bare Allow list.
 */
const handle = sessionRoute(z.object({}), (_query, actor, request) => handleReleaseUpload(actor, request));
const discover = publicRoute((request) => describeUploadProtocol(request));

export { handle as DELETE, handle as HEAD, handle as PATCH, handle as POST, discover as OPTIONS };
