import { packageTestConfig } from "@tooling/config/vitest";

export default packageTestConfig();
