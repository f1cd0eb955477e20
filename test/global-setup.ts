import { bundle } from "../release/bundle.ts";

export default async function setup(): Promise<void> {
  await bundle("dev");
}
