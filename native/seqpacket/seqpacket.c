// A client AF_UNIX SOCK_SEQPACKET socket for Node, for conmon's attach socket.
//
// Why our own: the point is flow control on receive. Reading stops when the caller stops
// watching the descriptor; the kernel's receive buffer then fills, conmon's blocking write to
// the attach socket waits, and so does the container's output, as a slow attach client slows
// the container under Docker. The JavaScript side decides when to watch and when to read; this
// file only wraps the system calls and a uv_poll_t on the event loop.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

// conmon's packets are at most STDIO_BUF_SIZE + 1 bytes (8193); anything up to this fits.
#define RECV_BUF_SIZE 65536

enum { WATCH_READABLE = 1, WATCH_WRITABLE = 2 };

typedef struct {
  int fd;
  uv_poll_t poll;
  napi_env env;
  napi_ref on_event;          // while watching: the JS callback
  napi_async_context async;   // for napi_make_callback
  int poll_open;              // uv_poll_init done, uv_close not yet called
  int closing;                // close() was called
  int finalized;              // the JS handle is gone
  int poll_closed;            // uv_close's callback ran (or there was no handle)
} seqsock;

static char recv_buf[RECV_BUF_SIZE];

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "seqpacket: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  char msg[256];
  const char *name = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(err));
  napi_value code, message, error;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errno_value;
  napi_create_int32(env, -err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_value syscall_value;
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  napi_throw(env, error);
  return NULL;
}

static void maybe_free(seqsock *s) {
  if (s->finalized && s->poll_closed) free(s);
}

static void on_poll_closed(uv_handle_t *handle) {
  seqsock *s = handle->data;
  s->poll_closed = 1;
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  maybe_free(s);
}

static void drop_callback(seqsock *s) {
  if (s->on_event) {
    napi_delete_reference(s->env, s->on_event);
    s->on_event = NULL;
  }
}

// From a finalizer (the JS side dropped an open socket) no N-API call is made: there is no
// callback reference then (one is held only while watching, and it keeps the handle alive),
// and the async context is left to the environment's teardown.
static void do_close(seqsock *s, int from_finalizer) {
  if (s->closing) return;
  s->closing = 1;
  if (!from_finalizer) {
    drop_callback(s);
    if (s->async) {
      napi_async_destroy(s->env, s->async);
      s->async = NULL;
    }
  }
  if (s->poll_open) {
    s->poll_open = 0;
    uv_poll_stop(&s->poll);
    // The descriptor is closed once libuv no longer refers to it.
    uv_close((uv_handle_t *)&s->poll, on_poll_closed);
  } else {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    s->poll_closed = 1;
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  seqsock *s = data;
  do_close(s, 1);
  s->finalized = 1;
  maybe_free(s);
}

static seqsock *unwrap(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external || napi_get_value_external(env, value, &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "seqpacket: not a socket handle");
    return NULL;
  }
  seqsock *s = data;
  if (s->closing) {
    napi_throw_error(env, "EBADF", "seqpacket: socket is closed");
    return NULL;
  }
  return s;
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], addr.sun_path, sizeof addr.sun_path, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "seqpacket: path must be a string");
    return NULL;
  }
  if (len == 0 || len >= sizeof addr.sun_path - 1) {
    napi_throw_error(env, "ENAMETOOLONG", "seqpacket: socket path is empty or too long");
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  // Non-blocking: a unix socket connects at once, or fails with EAGAIN when the backlog is full.
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "connect");
  }
  seqsock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, ENOMEM, "connect");
  }
  s->fd = fd;
  s->env = env;
  napi_value handle;
  if (napi_create_external(env, s, finalize, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "seqpacket: cannot create the handle");
    return NULL;
  }
  return handle;
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  seqsock *s = poll->data;
  if (!s->on_event || s->closing) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2], result;
  int flags = (events & UV_READABLE ? WATCH_READABLE : 0) | (events & UV_WRITABLE ? WATCH_WRITABLE : 0);
  if (napi_get_reference_value(env, s->on_event, &cb) == napi_ok && cb && napi_get_global(env, &recv) == napi_ok) {
    napi_create_int32(env, status, &argv[0]);
    napi_create_int32(env, flags, &argv[1]);
    // make_callback (its receiver must be an object): runs the microtasks and nextTicks the
    // callback queued, as after any I/O callback.
    if (napi_make_callback(env, s->async, recv, cb, 2, argv, &result) == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static napi_value js_watch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "seqpacket: watch(handle, events, onEvent)");
    return NULL;
  }
  seqsock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  int32_t want = 0;
  CHECK(napi_get_value_int32(env, argv[1], &want));
  int events = (want & WATCH_READABLE ? UV_READABLE : 0) | (want & WATCH_WRITABLE ? UV_WRITABLE : 0);
  if (events == 0) {
    if (s->poll_open) uv_poll_stop(&s->poll);
    // The callback stays referenced only while watching, so an idle socket can be collected.
    drop_callback(s);
    return NULL;
  }
  napi_valuetype type;
  if (argc < 3 || napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "seqpacket: onEvent must be a function");
    return NULL;
  }
  if (!s->poll_open) {
    uv_loop_t *loop;
    CHECK(napi_get_uv_event_loop(env, &loop));
    int r = uv_poll_init(loop, &s->poll, s->fd);
    if (r < 0) return throw_errno(env, -r, "uv_poll_init");
    s->poll.data = s;
    s->poll_open = 1;
  }
  if (!s->async) {
    napi_value name;
    CHECK(napi_create_string_utf8(env, "SeqpacketSocket", NAPI_AUTO_LENGTH, &name));
    CHECK(napi_async_init(env, NULL, name, &s->async));
  }
  drop_callback(s);
  CHECK(napi_create_reference(env, argv[2], 1, &s->on_event));
  int r = uv_poll_start(&s->poll, events, on_poll);
  if (r < 0) return throw_errno(env, -r, "uv_poll_start");
  return NULL;
}

static napi_value js_recv(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  seqsock *s = argc > 0 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  ssize_t n;
  do {
    n = recv(s->fd, recv_buf, sizeof recv_buf, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  napi_value out;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      CHECK(napi_get_undefined(env, &out));
      return out;
    }
    return throw_errno(env, errno, "recv");
  }
  if (n == 0) {
    CHECK(napi_get_null(env, &out));
    return out;
  }
  void *copy;
  CHECK(napi_create_buffer_copy(env, (size_t)n, recv_buf, &copy, &out));
  return out;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "seqpacket: send(handle, buffer, offset, length)");
    return NULL;
  }
  seqsock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  void *data;
  size_t size;
  if (napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok) {
    napi_throw_type_error(env, NULL, "seqpacket: data must be a Buffer");
    return NULL;
  }
  int64_t off, len;
  CHECK(napi_get_value_int64(env, argv[2], &off));
  CHECK(napi_get_value_int64(env, argv[3], &len));
  if (off < 0 || len < 0 || (uint64_t)off + (uint64_t)len > size) {
    napi_throw_range_error(env, NULL, "seqpacket: offset/length outside the buffer");
    return NULL;
  }
  ssize_t n;
  do {
    n = send(s->fd, (char *)data + off, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  napi_value out;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      CHECK(napi_get_boolean(env, false, &out));
      return out;
    }
    return throw_errno(env, errno, "send");
  }
  CHECK(napi_get_boolean(env, true, &out));
  return out;
}

static napi_value js_shutdown_write(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  seqsock *s = argc > 0 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  if (shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN) return throw_errno(env, errno, "shutdown");
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "seqpacket: not a socket handle");
    return NULL;
  }
  do_close(data, 0);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[8];
  napi_value readable, writable;
  CHECK(napi_create_int32(env, WATCH_READABLE, &readable));
  CHECK(napi_create_int32(env, WATCH_WRITABLE, &writable));
  napi_property_descriptor list[] = {
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watch", NULL, js_watch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recv", NULL, js_recv, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdownWrite", NULL, js_shutdown_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"READABLE", NULL, NULL, NULL, NULL, readable, napi_enumerable, NULL},
      {"WRITABLE", NULL, NULL, NULL, NULL, writable, napi_enumerable, NULL},
  };
  memcpy(props, list, sizeof list);
  CHECK(napi_define_properties(env, exports, 8, props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
