import { RemovalPolicy } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpoint,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ManagedPolicyRole } from './managedPolicyRole.js';

/** What Lambda does with the execution role to attach a function to its subnets (Lambda's documented minimum). */
export const NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

export interface FunctionNetworkProps {
  /**
   * Opt-in: a public subnet and one NAT gateway, and the functions in private subnets with egress.
   * @default false - isolated subnets, no route to the internet
   */
  readonly allowInternetEgress?: boolean;
  /**
   * An existing VPC (looked up at synth) instead of a new one. It must bring its own S3 gateway and
   * Step Functions (and X-Ray) endpoints and flow logs: the network team's, not this stack's.
   * @default - a new VPC with two AZs, endpoints and flow logs
   */
  readonly vpcId?: string;
  /** Encrypts the flow-log group. @default - no customer-managed key */
  readonly encryptionKey?: IKey;
}

/** How a function is placed in the network: the props Lambda takes. */
export interface FunctionPlacement {
  readonly vpc: IVpc;
  readonly vpcSubnets: SubnetSelection;
  readonly securityGroups: SecurityGroup[];
}

/**
 * Where the functions run: private subnets without a route to the internet (unless opted in), S3
 * through a gateway endpoint whose policy admits the data bucket only, and interface endpoints for
 * the two APIs the code calls that S3 does not serve: Step Functions (the score function starts the
 * fan-out) and X-Ray (the tracer's segments). CloudWatch Logs and metrics need none: Lambda ships the
 * functions' stdout, EMF metrics included. KMS needs none: S3 and SQS call KMS on the caller's behalf.
 *
 * Security groups: the functions' allows no inbound traffic and only HTTPS out; the endpoints' allows
 * HTTPS in from the functions' group only, and nothing out.
 */
export class FunctionNetwork extends Construct {
  public readonly vpc: IVpc;
  public readonly subnets: SubnetSelection;
  public readonly functionSecurityGroup: SecurityGroup;
  /** Only when the stack creates the VPC. */
  public readonly endpointSecurityGroup?: SecurityGroup;
  public readonly s3Endpoint?: GatewayVpcEndpoint;
  public readonly interfaceEndpoints: readonly InterfaceVpcEndpoint[];

  constructor(scope: Construct, id: string, props: FunctionNetworkProps = {}) {
    super(scope, id);
    const egress = props.allowInternetEgress ?? false;
    const subnetType = egress ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PRIVATE_ISOLATED;
    this.subnets = { subnetType };

    if (props.vpcId) {
      this.vpc = Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId });
    } else {
      const vpc = new Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: egress ? 1 : 0,
        subnetConfiguration: [...(egress ? [{ name: 'Public', subnetType: SubnetType.PUBLIC }] : []), { name: 'Functions', subnetType }],
        restrictDefaultSecurityGroup: true,
      });
      this.vpc = vpc;
      this.addFlowLogs(vpc, props.encryptionKey);
    }

    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'Propensity functions: no inbound; HTTPS out only (to the S3 gateway and the interface endpoints)',
      allowAllOutbound: false,
    });
    // Isolated subnets route nowhere but the S3 gateway and the VPC itself: 443 to any address reaches only those.
    this.functionSecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to S3 (gateway endpoint) and the interface endpoints');

    if (props.vpcId) {
      this.interfaceEndpoints = [];
      return;
    }
    this.s3Endpoint = this.vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3, subnets: [this.subnets] });
    this.endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Propensity interface endpoints: HTTPS in from the functions only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, Port.tcp(443), 'HTTPS from the Propensity functions');
    const endpoint = (endpointId: string, service: InterfaceVpcEndpointAwsService) =>
      this.vpc.addInterfaceEndpoint(endpointId, { service, subnets: this.subnets, securityGroups: [this.endpointSecurityGroup!], privateDnsEnabled: true, open: false });
    this.interfaceEndpoints = [endpoint('StepFunctions', InterfaceVpcEndpointAwsService.STEP_FUNCTIONS), endpoint('XRay', InterfaceVpcEndpointAwsService.XRAY)];
  }

  /** The props a function takes to run in these subnets with the functions' security group. */
  get placement(): FunctionPlacement {
    return { vpc: this.vpc, vpcSubnets: this.subnets, securityGroups: [this.functionSecurityGroup] };
  }

  /**
   * Lets a function's role create the network interfaces Lambda attaches it with. The EC2 actions
   * accept no narrower resource before the interface exists, hence `*` (the caller acknowledges it).
   */
  grantNetworkInterfaces(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'AttachToVpc', effect: Effect.ALLOW, actions: [...NETWORK_INTERFACE_ACTIONS], resources: ['*'] }));
  }

  /** Lets the S3 gateway endpoint reach this bucket and nothing else: data cannot leave to another bucket through it. */
  restrictS3To(bucket: IBucket): void {
    this.s3Endpoint?.addToPolicy(
      new PolicyStatement({
        sid: 'OnlyTheDataBucket',
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: ['s3:*'],
        resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      }),
    );
  }

  /** Every flow, accepted or rejected, to a log group under the data key, kept a year for audits. */
  private addFlowLogs(vpc: Vpc, key: IKey | undefined): void {
    const logGroup = new LogGroup(this, 'FlowLogs', { retention: RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN, ...(key ? { encryptionKey: key } : {}) });
    const role = new ManagedPolicyRole(this, 'FlowLogsRole', { assumedBy: new ServicePrincipal('vpc-flow-logs.amazonaws.com'), description: 'Delivers the Propensity VPC flow logs' });
    vpc.addFlowLog('FlowLog', { destination: FlowLogDestination.toCloudWatchLogs(logGroup, role), trafficType: FlowLogTrafficType.ALL });
  }
}
