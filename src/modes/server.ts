import { defineCommand } from "./command.ts";

export const serverCommand = defineCommand({
  command: "server",
  describe: "Run the embedded, durable Resonate server",
  options: {
    host: { type: "string", default: "127.0.0.1", describe: "Address to bind" },
    port: { type: "number", default: 8001, describe: "Port to listen on (0 picks a free one)" },
  },
  run(args, ctx) {
    ctx.stdout.write(`would listen on ${args.host}:${args.port}\n`);
    return Promise.resolve(0);
  },
});
