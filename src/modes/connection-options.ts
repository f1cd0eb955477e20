// Options every client of a Resonate server takes: which server, and how to prove who we are.
export const connectionOptions = {
  url: {
    type: "string",
    describe: "Resonate server URL [default: RESONATE_URL, else http://127.0.0.1:8001]",
  },
  token: { type: "string", describe: "Bearer token for the server [default: RESONATE_TOKEN]" },
} as const;
