export const MAIN_USAGE = `
Usage:  berth [OPTIONS] COMMAND

A Docker-compatible container engine

Common Commands:
  run         Create and run a new container from an image
  ps          List containers
  images      List images
  pull        Download an image from a registry
  build       Build an image from a Dockerfile
  save        Save one or more images to a tar archive (streamed to STDOUT by default)
  load        Load an image from a tar archive or STDIN
  push        Upload an image to a registry
  logs        Fetch the logs of a container
  rm          Remove one or more containers
  version     Show the berth version information
  daemon      Run the berth daemon

Global Options:
  -H, --host string   Daemon socket to connect to (unix://PATH; default unix:///run/berth/berth.sock,
                      or DOCKER_HOST when it is a unix:// address)
  -h, --help          Print usage

Run 'berth COMMAND --help' for more information on a command.
`;

export const COMMAND_USAGE: Record<string, string> = {
  run: `
Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image

Options:
  -d, --detach         Run container in background and print container ID
  -e, --env list       Set environment variables
      --name string    Assign a name to the container
      --rm             Automatically remove the container and its associated anonymous volumes when it exits
`,
  ps: `
Usage:  berth ps [OPTIONS]

List containers

Options:
  -a, --all     Show all containers (default shows just running)
  -q, --quiet   Only display container IDs
`,
  images: `
Usage:  berth images [OPTIONS]

List images

Options:
  -a, --all     Show all images
  -q, --quiet   Only show image IDs
`,
  pull: `
Usage:  berth pull [OPTIONS] NAME[:TAG|@DIGEST]

Download an image from a registry
`,
  build: `
Usage:  berth build [OPTIONS] PATH | -

Build an image from a Dockerfile

Options:
      --build-arg list    Set build-time variables
  -f, --file string       Name of the Dockerfile (default: "PATH/Dockerfile")
      --force-rm          Always remove intermediate containers
      --iidfile string    Write the image ID to the file
      --label list        Set metadata for an image
      --network string    Set the networking mode for the RUN instructions during build (default "default")
      --no-cache          Do not use cache when building the image
      --platform string   Set platform if server is multi-platform capable
      --pull              Always attempt to pull a newer version of the image
  -q, --quiet             Suppress the build output and print image ID on success
      --rm                Remove intermediate containers after a successful build (default true)
  -t, --tag list          Name and optionally a tag in the "name:tag" format
      --target string     Set the target build stage to build.
`,
  save: `
Usage:  berth save [OPTIONS] IMAGE [IMAGE...]

Save one or more images to a tar archive (streamed to STDOUT by default)

Options:
  -o, --output string     Write to a file, instead of STDOUT
      --platform string   Save only the given platform variant
`,
  load: `
Usage:  berth load [OPTIONS]

Load an image from a tar archive or STDIN

Options:
  -i, --input string      Read from tar archive file, instead of STDIN
      --platform string   Load only the given platform variant
  -q, --quiet             Suppress the load output
`,
  push: `
Usage:  berth push [OPTIONS] NAME[:TAG]

Upload an image to a registry

Options:
  -a, --all-tags   Push all tags of an image to the repository
  -q, --quiet      Suppress verbose output
`,
  logs: `
Usage:  berth logs [OPTIONS] CONTAINER

Fetch the logs of a container

Options:
  -f, --follow         Follow log output
      --since string   Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
  -n, --tail string    Number of lines to show from the end of the logs (default "all")
  -t, --timestamps     Show timestamps
      --until string   Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
`,
  rm: `
Usage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]

Remove one or more containers

Options:
  -f, --force     Force the removal of a running container (uses SIGKILL)
  -v, --volumes   Remove anonymous volumes associated with the container
`,
  version: `
Usage:  berth version

Show the berth version information
`,
};
