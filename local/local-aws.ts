import { NodeHttpHandler } from "@smithy/node-http-handler";

/**
 * SDK client settings for a local server on 127.0.0.1: fixed region and credentials, HTTP/1.1
 * (the local servers do not speak HTTP/2) and no SDK retries, so tests see every answer.
 */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  };
}

/** Sets environment variables; the returned function puts back what was there before. */
export function setEnvironment(variables: Readonly<Record<string, string>>): () => void {
  const saved = Object.entries(variables).map(([name]) => [name, process.env[name]] as const);
  Object.assign(process.env, variables);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
