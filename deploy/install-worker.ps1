<#
.SYNOPSIS
Enrols this Windows machine as a worker of a Cis490 fleet in one command.

.DESCRIPTION
Installs the worker program (built from this checkout, or -Binaries DIR), runs its self-test (every model family trained on a
tiny synthetic set; a machine that can run none is refused, exit 5), writes a launcher with the seed address, data folder and
slots, and registers a Scheduled Task that starts it at start-up and starts it again after a failure (same flags as
deploy/install-worker.sh). Run it in an elevated PowerShell 7.

What a Windows worker can run: knn and knn_semi (managed code) always. gbt only where the operator provides XGBoost's
xgboost.dll (1.7 or later): put it beside the worker or give -XgboostLibrary PATH. The neural families (mlp, cnn, gru, lstm,
transformer) need libtorch for Windows, which this build does not ship (it references libtorch-cpu-linux-x64): the self-test
lists them as unavailable and the worker never advertises them. The self-test says which, and why.

.EXAMPLE
pwsh -File deploy\install-worker.ps1 -Seed akka.tcp://cis490@192.168.1.10:4053 -Hostname 192.168.1.22 -Slots 2 -Tls C:\enrol\laptop-2
#>
[CmdletBinding()]
param(
    # The coordinator's address (several separated by commas).
    [Parameter(Mandatory = $true)][string]$Seed,
    # The address other nodes reach this machine on.
    [string]$Hostname = "",
    [int]$Port = 4054,
    [int]$Slots = 1,
    # The feature folder the worker trains on.
    [string]$Data = "",
    [string]$WorkDir = "C:\ProgramData\Cis490\work",
    # This machine's enrolment folder (./cis490 certs issue NAME --role worker): ca.crt, node.crt, node.key.
    [string]$Tls = "",
    [switch]$Insecure,
    [string]$WorkerId = "",
    # More options for 'worker', passed as they are.
    [string]$WorkerArgs = "",
    # A Cis490.WorkerNode build output to install instead of building this checkout.
    [string]$Binaries = "",
    [string]$Prefix = "C:\Program Files\Cis490",
    # XGBoost's library (xgboost.dll) for gbt; without it the worker does not offer gbt.
    [string]$XgboostLibrary = "",
    [string]$TaskName = "Cis490 Worker",
    # Write everything but register no Scheduled Task (staging; the only mode off Windows).
    [switch]$NoRegister,
    [switch]$SkipSelfTest
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Say([string]$Text) { [Console]::Error.WriteLine("install-worker: $Text") }
function Fail([string]$Text, [int]$Code = 1) { [Console]::Error.WriteLine("install-worker: ERROR: $Text"); exit $Code }

# ---- check everything before changing anything ----
foreach ($s in $Seed.Split(',')) {
    if ($s -notmatch '^akka(\.ssl)?\.tcp://[A-Za-z0-9_-]+@[A-Za-z0-9._:-]+:[0-9]+$') { Fail "-Seed '$s' is not an Akka address like akka.tcp://cis490@HOST:4053" 2 }
}
if ($Slots -lt 1) { Fail "-Slots must be a positive integer, got $Slots" 2 }
if ($Port -lt 1 -or $Port -gt 65535) { Fail "-Port must be 1-65535, got $Port" 2 }
if (-not $Hostname) {
    $Hostname = [System.Net.Dns]::GetHostAddresses([System.Net.Dns]::GetHostName()) |
        Where-Object { $_.AddressFamily -eq 'InterNetwork' -and -not [System.Net.IPAddress]::IsLoopback($_) } |
        Select-Object -First 1 | ForEach-Object { $_.ToString() }
    if (-not $Hostname) { Fail "cannot tell this machine's address: give -Hostname ADDRESS" 2 }
}
if ($Tls -and $Insecure) { Fail "give -Tls DIR or -Insecure, not both" 2 }
if (-not $Tls -and -not $Insecure -and $Hostname -notin @('127.0.0.1', 'localhost')) {
    Fail "-Hostname $Hostname is beyond loopback: give -Tls DIR (this machine's enrolment folder, docs/tls.md) or -Insecure" 2
}
if ($Tls) { foreach ($f in 'ca.crt', 'node.crt', 'node.key') { if (-not (Test-Path -LiteralPath (Join-Path $Tls $f))) { Fail "-Tls $Tls has no $f (docs/tls.md)" 2 } } }
if ($XgboostLibrary -and -not (Test-Path -LiteralPath $XgboostLibrary)) { Fail "-XgboostLibrary ${XgboostLibrary}: no such file" 2 }
if (-not $NoRegister -and -not $IsWindows) { Fail "Scheduled Tasks exist on Windows only: use deploy/install-worker.sh here, or -NoRegister to stage" 2 }
$dotnet = (Get-Command dotnet -ErrorAction SilentlyContinue).Source
if (-not $dotnet) { Fail "the .NET 10 runtime is required ('dotnet' is not on PATH; https://dot.net)" }

# ---- the program ----
$repo = Split-Path -Parent $PSScriptRoot
if (-not $Binaries) {
    $csproj = Join-Path $repo (Join-Path 'WorkerNode' 'Cis490.WorkerNode.csproj')
    if (-not (Test-Path -LiteralPath $csproj)) { Fail "no ${csproj}: run this script from a checkout, or give -Binaries DIR" }
    Say "building Cis490.WorkerNode from $repo (release)"
    & $dotnet build $csproj -c release -nologo -v quiet -p:NuGetAudit=false | Out-Host
    if ($LASTEXITCODE -ne 0) { Fail "the build of Cis490.WorkerNode failed" }
    $Binaries = Join-Path $repo (Join-Path '.build' (Join-Path 'bin' (Join-Path 'Cis490.WorkerNode' 'release')))
}
if (-not (Test-Path -LiteralPath (Join-Path $Binaries 'Cis490.WorkerNode.dll'))) { Fail "$Binaries holds no Cis490.WorkerNode.dll: -Binaries must name a build output folder" }
$dest = Join-Path $Prefix 'worker'
Say "installing $Binaries -> $dest"
if (Test-Path -LiteralPath $dest) { Remove-Item -LiteralPath $dest -Recurse -Force }
New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
Copy-Item -LiteralPath $Binaries -Destination $dest -Recurse
if ($XgboostLibrary) { Copy-Item -LiteralPath $XgboostLibrary -Destination (Join-Path $dest 'xgboost.dll') }

# ---- the self-test, before anything enrols this machine ----
if (-not $SkipSelfTest) {
    Say "self-test: training every model family on a tiny synthetic set with the installed program"
    & $dotnet (Join-Path $dest 'Cis490.WorkerNode.dll') trainer self-test | Out-Null
    switch ($LASTEXITCODE) {
        0 { Say "self-test passed: the worker will advertise the families marked ok above" }
        5 { Fail "REFUSED: this machine can run no model family (see the self-test's lines above); nothing was enrolled" 5 }
        default { Fail "REFUSED: the self-test did not run (exit $LASTEXITCODE; its output is above); nothing was enrolled" 5 }
    }
}

# ---- TLS and the launcher ----
New-Item -ItemType Directory -Force -Path $WorkDir | Out-Null
# Data sets are pulled from the coordinator into WorkDir\data-sets; -Data is only a folder built or copied by hand.
$dataOption = if ($Data) { "--data `"$Data`"" } else { "" }
$tlsOption = '--insecure'
if ($Tls) {
    $tlsDest = Join-Path $Prefix 'tls'
    New-Item -ItemType Directory -Force -Path $tlsDest | Out-Null
    foreach ($f in 'ca.crt', 'node.crt', 'node.key') { Copy-Item -LiteralPath (Join-Path $Tls $f) -Destination (Join-Path $tlsDest $f) -Force }
    if ($IsWindows) {
        # node.key: readable by SYSTEM and Administrators only (the task runs as SYSTEM).
        & icacls (Join-Path $tlsDest 'node.key') /inheritance:r /grant:r 'SYSTEM:R' 'Administrators:F' | Out-Null
    }
    $tlsOption = "--tls `"$tlsDest`""
}
$idOption = if ($WorkerId) { "--worker-id $WorkerId" } else { '' }
$log = Join-Path $Prefix 'worker.log'
$launcher = Join-Path $Prefix 'run-worker.cmd'
# The task runs this: the worker, started again 5 s after it ends unless it ended for a reason a restart cannot fix
# (2: usage error such as no feature build in the data folder; 4: its worker id is held by another node; 5: it can run no family).
$lines = @(
    '@echo off',
    'rem Written by deploy/install-worker.ps1; edit and restart the Scheduled Task to change.',
    'set DOTNET_CLI_TELEMETRY_OPTOUT=1'
)
$lines += ":run"
$lines += "`"$dotnet`" `"$(Join-Path $dest 'Cis490.WorkerNode.dll')`" worker --seed $Seed --hostname $Hostname --port $Port --slots $Slots --work-dir `"$WorkDir`" $dataOption $tlsOption $idOption $WorkerArgs >> `"$log`" 2>&1"
$lines += 'set RC=%ERRORLEVEL%'
$lines += 'if %RC%==0 exit /b 0'
$lines += 'if %RC%==2 exit /b 2'
$lines += 'if %RC%==4 exit /b 4'
$lines += 'if %RC%==5 exit /b 5'
$lines += 'timeout /t 5 /nobreak > nul'
$lines += 'goto run'
Set-Content -LiteralPath $launcher -Value $lines -Encoding ascii
Say "wrote $launcher (output in $log)"

if ($Data -and -not (Test-Path -LiteralPath (Join-Path $Data 'features_window_v1.parquet'))) {
    Say "NOTE: $Data holds no feature build; the worker refuses to start (exit 2) until it does, or drop -Data: published data sets are pulled from the coordinator"
}

# ---- the Scheduled Task: at start-up, as SYSTEM, restarted after a failure ----
if ($NoRegister) {
    Say "no Scheduled Task registered (-NoRegister); on the machine: run this script without it"
} else {
    $action = New-ScheduledTaskAction -Execute $env:ComSpec -Argument "/c `"$launcher`""
    $trigger = New-ScheduledTaskTrigger -AtStartup
    # The launcher restarts the worker itself; these settings restart the task when it cannot start at all, never time it out,
    # and let a laptop keep training on battery.
    $settings = New-ScheduledTaskSettingsSet -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) -ExecutionTimeLimit ([TimeSpan]::Zero) `
        -StartWhenAvailable -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -MultipleInstances IgnoreNew
    $principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
    Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $settings -Principal $principal -Force | Out-Null
    Start-ScheduledTask -TaskName $TaskName
    Say "registered and started the Scheduled Task '$TaskName' (Get-ScheduledTask -TaskName '$TaskName'; log $log)"
}
Say "done: worker ${Hostname}:$Port -> $Seed, $Slots slot(s), data-set cache $WorkDir\data-sets$(if ($Data) { ", pre-seeded $Data" })"
