global using Xunit;

// Trainings share libtorch's one global generator and every core: run them one at a time, so that each is reproducible.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

// libtorch-cpu-linux-x64 and the ELF patch make this a Linux-only test project.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
