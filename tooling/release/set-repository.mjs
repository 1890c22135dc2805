// Write the repository the release runs from into every manifest that is published (npm provenance requires
// `repository.url` to name the GitHub repository that built the package): the publishable workspace packages and the
// staged platform packages. The release workflow runs it with its own repository's URL.
//
//   node tooling/release/set-repository.mjs <https://github.com/OWNER/REPO> [--root DIR]
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const rootIndex = argv.indexOf("--root");
const root =
  rootIndex >= 0 ? resolve(argv[rootIndex + 1] ?? ".") : resolve(fileURLToPath(new URL("../..", import.meta.url)));
const url = argv.find((arg, i) => !arg.startsWith("--") && i !== rootIndex + 1);
if (!url || !/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/.test(url)) {
  process.stderr.write(`[set-repository] expected https://github.com/OWNER/REPO, got ${JSON.stringify(url ?? "")}\n`);
  process.exit(2);
}

const children = (dir) => (existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : []);
// The staged platform packages are published from their build folder, but their source is native/platforms/<key>.
const manifests = [
  join(root, "native"),
  ...children(join(root, "packages")),
  ...children(join(root, "native", "build-packages")).map((dir) => [
    dir,
    join(root, "native", "platforms", dir.split(/[\\/]/).at(-1)),
  ]),
];
let written = 0;
for (const entry of manifests) {
  const [dir, source] = Array.isArray(entry) ? entry : [entry, entry];
  const path = join(dir, "package.json");
  if (!existsSync(path)) continue;
  const manifest = JSON.parse(readFileSync(path, "utf8"));
  if (manifest.private) continue;
  manifest.repository = { type: "git", url: `git+${url}.git`, directory: relative(root, source).split("\\").join("/") };
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
  written++;
}
process.stderr.write(`[set-repository] ${url} written into ${written} manifests\n`);
