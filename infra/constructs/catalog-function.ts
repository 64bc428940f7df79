import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import path from 'node:path';
import type { FunctionDefinition } from '../function-catalog';

/** Repository root: catalog entries are relative to it, and it holds the lockfile. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Properties of one catalog function. */
export interface CatalogFunctionProps {
  definition: FunctionDefinition;
  /** Environment beyond what every function gets. */
  environment: Record<string, string>;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  logRetention: logs.RetentionDays;
}

/**
 * One catalog entry as a Lambda function: bundled locally with esbuild, with its own log group
 * and its own role. The role starts empty apart from writing to that log group, so it carries no
 * managed policy (AWSLambdaBasicExecutionRole grants logs on `*`); the stack adds grants.
 */
export class CatalogFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CatalogFunctionProps) {
    super(scope, id);
    const { definition } = props;

    // Logs are operational, not state: they age out and go with the stateless stack.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `slipway ${definition.id}: ${definition.description}`.slice(0, 1000),
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, definition.entry),
      handler: 'handler',
      description: definition.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(definition.timeoutSeconds),
      memorySize: definition.memoryMb,
      role: this.role,
      logGroup: this.logGroup,
      // X-Ray: the invocation's segment, and the SDK calls Powertools Tracer captures under it.
      tracing: lambda.Tracing.ACTIVE,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'slipway',
        LOG_LEVEL: props.logLevel,
        // The handlers capture their SDK clients with Powertools Tracer (loaded only when traced).
        TRACING: 'xray',
        // The bundle ships a lean source map (mappings only, no sources: ~0.7 MB for the API instead
        // of 2.3 MB); stack traces in the logs point at the TypeScript file and line.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        // The source text is in the repository; the map needs only the mappings to name file and line.
        sourcesContent: false,
        // The runtime is Node.js 24; the bundles also run under Node 20 (local development and the
        // bundle tests), so the syntax targets the older of the two.
        target: 'node20',
        format: OutputFormat.CJS,
        // The Node.js runtime ships AWS SDK v3: bundling our pinned copy made every function
        // ~1.1 MB (the SDK was 60% of it) and slowed cold starts. The SDK's API is stable across
        // v3 minors; tests and the local runtime run the pinned version (see docs/design.md).
        externalModules: ['@aws-sdk/*'],
        // No esbuild metafile: it shipped in every bundle (~200 KB of absolute build paths) and nothing
        // read it; `npm run bench -- bundles` reports sizes.
        metafile: false,
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => (definition.files ?? []).map((file) => `cp "${path.join(inputDir, file)}" "${path.join(outputDir, path.basename(file))}"`),
        },
        // esbuild's per-file size report drowns synth output; its warnings still show.
        logLevel: LogLevel.WARNING,
      },
    });
  }
}
