// Spotlight's sidecar (4.x) has no host option and listens on every interface.
// The stack binds every server to 127.0.0.1, so this preload (node --require) pins
// numeric-port listen() calls of this process to loopback. No library does this for us.
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const host = process.env.SPOTLIGHT_HOST || "127.0.0.1";
  if (args.length && typeof args[0] === "object" && args[0] !== null && "port" in args[0]) {
    args[0] = { ...args[0], host: args[0].host || host };
  } else if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== "string") args.splice(1, 0, host);
  }
  return listen.apply(this, args);
};
