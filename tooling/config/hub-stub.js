/**
 * A stand-in for the Hugging Face hub on 127.0.0.1, for download tests (pointed at with HF_ENDPOINT): the paths-info
 * API (the LFS SHA-256 of large files, the git blob SHA-1 of files stored in git) and resolve URLs with Range support,
 * plus the faults a download must survive — a connection dropped mid-file, corrupted bytes, a slow transfer.
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";

function digest(algorithm, ...parts) {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/**
 * Start a hub serving `files` ("<revision>/<path>" → { bytes, lfs }) for repository `repo`, and files of other
 * repositories under "<owner>/<name>/<revision>/<path>".
 */
export async function startHubStub(files, repo = "ecker/vall-e") {
  const requests = [];
  const hub = { endpoint: "", requests, fault: {}, close: undefined };
  const paths = /^\/api\/models\/([\w.-]+\/[\w.-]+)\/paths-info\/(\w+)$/;
  const resolveUrl = /^\/([\w.-]+\/[\w.-]+)\/resolve\/(\w+)\/(.+)$/;
  const key = (owner, revision, path) => (owner === repo ? `${revision}/${path}` : `${owner}/${revision}/${path}`);

  async function handle(request, response) {
    const url = request.url ?? "";
    requests.push({
      method: request.method ?? "",
      url,
      ...(request.headers.range ? { range: request.headers.range } : {}),
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
    });
    // A hub that accepts the connection and never answers (headers never come).
    if (hub.fault.hang) return;
    const info = url.match(paths);
    if (info && request.method === "POST") {
      let body = "";
      for await (const chunk of request) body += chunk;
      const entries = JSON.parse(body).paths.flatMap((path) => {
        const file = files.get(key(info[1], info[2], path));
        if (!file) return [];
        const size = file.bytes.length;
        return file.lfs
          ? [
              {
                type: "file",
                path,
                size,
                oid: digest("sha1", path),
                lfs: { oid: digest("sha256", file.bytes), size, pointerSize: 130 },
              },
            ]
          : [{ type: "file", path, size, oid: digest("sha1", `blob ${size}\0`, file.bytes) }];
      });
      response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(entries));
      return;
    }
    const resolve = url.match(resolveUrl);
    const file = resolve ? files.get(key(resolve[1], resolve[2], resolve[3])) : undefined;
    if (!file) {
      response.writeHead(404, { "X-Error-Code": "EntryNotFound" }).end("Entry not found");
      return;
    }
    const fault = hub.fault;
    const bytes = fault.corrupt ? Buffer.from(file.bytes.map((b) => b ^ 0x5a)) : file.bytes;
    const range = request.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Number(range[2]) + 1 : bytes.length;
    const body = bytes.subarray(start, end);
    response.writeHead(range ? 206 : 200, {
      ETag: `"${digest("sha256", file.bytes)}"`,
      "Content-Length": body.length,
      ...(range ? { "Content-Range": `bytes ${start}-${end - 1}/${bytes.length}` } : {}),
    });
    // The 1-byte probe of a download's info never drops; the next transfer does, once.
    const drop = body.length > 1 ? fault.dropAfter : undefined;
    if (drop !== undefined) hub.fault = { ...fault, dropAfter: undefined };
    for (let offset = 0; offset < body.length; offset += 16_384) {
      // Stall mid-file: the connection stays open, no more bytes come (once).
      if (fault.stallAfter !== undefined && offset >= fault.stallAfter && body.length > 1) {
        hub.fault = { ...hub.fault, stallAfter: undefined };
        return;
      }
      if (drop !== undefined && offset >= drop) {
        request.socket.destroy();
        return;
      }
      if (fault.slow) await new Promise((done) => setTimeout(done, fault.slow));
      // Each chunk is handed to the socket before the next, so a drop comes after what was sent.
      await new Promise((done) => response.write(body.subarray(offset, offset + 16_384), done));
    }
    response.end();
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => response.destroy(error));
  });
  const sockets = new Set();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  hub.endpoint = `http://127.0.0.1:${server.address().port}`;
  hub.close = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy(); // hung and stalled requests too
      server.close(() => resolve());
    });
  return hub;
}

/** A local port nothing listens on (opened, then closed). */
export async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function sha256(bytes) {
  return digest("sha256", bytes);
}
